// Specification of the DNS primitives, run against real loopback servers:
// FakeDnsServer for UDP, FakeDohServer (HTTPS) for DoH, and the system
// resolver (only for "localhost" and names under ".invalid", and only inside a
// private network namespace, so no query can leave the machine).
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sched.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <map>
#include <random>
#include <thread>

#include <gtest/gtest.h>

#include "probe/net/dns_lookup.h"
#include "probe/net/tests/fake_dns_server.h"

namespace vantage::net {
namespace {

using namespace std::chrono_literals;
using testing::FakeDnsReply;
using testing::FakeDnsServer;
using testing::FakeDohServer;
using testing::FakeHttpResponse;
using testing::make_dns_response;

uint16_t id_of(const std::string& message) {
  return static_cast<uint16_t>((static_cast<uint8_t>(message[0]) << 8) |
                               static_cast<uint8_t>(message[1]));
}

class DnsTest : public ::testing::Test {
 protected:
  StepClock clock;
  StepContext ctx{&clock, 7};
};

// ---------------------------------------------------------------- messages

TEST_F(DnsTest, BuildsStandardRecursiveQuery) {
  const std::string query = build_dns_query("www.example.org", QueryType::AAAA, 0x1234);
  ASSERT_EQ(query.size(), 12u + 17u + 4u);
  EXPECT_EQ(id_of(query), 0x1234);
  EXPECT_EQ(static_cast<uint8_t>(query[2]), 0x01);  // RD, QR clear
  EXPECT_EQ(query.substr(4, 8), std::string("\0\1\0\0\0\0\0\0", 8));
  EXPECT_EQ(query.substr(12, 17), std::string("\3www\7example\3org\0", 17));
  EXPECT_EQ(query.substr(29), std::string("\0\x1c\0\1", 4));  // AAAA, IN
}

TEST_F(DnsTest, BuildRejectsUnencodableName) {
  EXPECT_EQ(build_dns_query(std::string(64, 'a') + ".invalid", QueryType::A, 1), "");
}

TEST_F(DnsTest, ParsesAnswersWithTheirWireTtls) {
  const std::string query = build_dns_query("chat.example", QueryType::A, 0xbeef);
  FakeDnsReply reply;
  reply.cname = "edge.cdn.example";
  reply.ipv4 = {"192.0.2.10", "192.0.2.11"};
  reply.ipv6 = {"2001:db8::1"};
  reply.ttl = 47;
  const std::string response = make_dns_response(query, reply);

  format::DnsObservation obs;
  ASSERT_TRUE(parse_dns_response(response, obs));
  EXPECT_EQ(obs.rcode, 0);
  EXPECT_EQ(obs.query_id, 0xbeef);
  EXPECT_EQ(obs.raw_response, response);
  ASSERT_EQ(obs.answers.size(), 4u);
  EXPECT_EQ(obs.answers[0].answer_type, "CNAME");
  EXPECT_EQ(obs.answers[0].hostname, "edge.cdn.example");
  EXPECT_EQ(obs.answers[1].answer_type, "A");
  EXPECT_EQ(obs.answers[1].ipv4, "192.0.2.10");
  EXPECT_EQ(obs.answers[2].ipv4, "192.0.2.11");
  EXPECT_EQ(obs.answers[3].answer_type, "AAAA");
  EXPECT_EQ(obs.answers[3].ipv6, "2001:db8::1");
  for (const auto& answer : obs.answers) EXPECT_EQ(answer.ttl, 47u);
}

TEST_F(DnsTest, ParsesNxdomainRcode) {
  FakeDnsReply reply;
  reply.rcode = 3;
  format::DnsObservation obs;
  ASSERT_TRUE(parse_dns_response(
      make_dns_response(build_dns_query("x.example", QueryType::A, 9), reply), obs));
  EXPECT_EQ(obs.rcode, 3);
  EXPECT_TRUE(obs.answers.empty());
}

TEST_F(DnsTest, RejectsEveryTruncationOfAValidResponse) {
  FakeDnsReply reply;
  reply.cname = "edge.example";
  reply.ipv4 = {"192.0.2.1"};
  const std::string response =
      make_dns_response(build_dns_query("a.example", QueryType::A, 5), reply);
  for (size_t length = 0; length < response.size(); ++length) {
    format::DnsObservation obs;
    EXPECT_FALSE(parse_dns_response(response.substr(0, length), obs)) << "length " << length;
    EXPECT_EQ(obs.failure, "dns_server_misbehaving");
    EXPECT_TRUE(obs.answers.empty());
  }
}

TEST_F(DnsTest, RejectsCompressionLoops) {
  // Header: response, 1 question; the question's name is a pointer to itself.
  const std::string self_loop = std::string("\0\1\x81\x80\0\1\0\0\0\0\0\0", 12) +
                                std::string("\xc0\x0c\0\1\0\1", 6);
  format::DnsObservation obs;
  EXPECT_FALSE(parse_dns_response(self_loop, obs));

  // Two labels pointing at each other across an answer record.
  const std::string two_step = std::string("\0\1\x81\x80\0\1\0\0\0\0\0\0", 12) +
                               std::string("\1a\xc0\x0e\0\1\0\1", 8);
  EXPECT_FALSE(parse_dns_response(two_step, obs));

  // A pointer past the end of the message.
  const std::string out_of_bounds = std::string("\0\1\x81\x80\0\1\0\0\0\0\0\0", 12) +
                                    std::string("\xc0\xff\0\1\0\1", 6);
  EXPECT_FALSE(parse_dns_response(out_of_bounds, obs));
}

TEST_F(DnsTest, RejectsQueriesAndBadRecordLengths) {
  format::DnsObservation obs;
  // A query (QR clear) is not a response.
  EXPECT_FALSE(parse_dns_response(build_dns_query("a.example", QueryType::A, 1), obs));

  // An A record whose rdata is 5 bytes long.
  FakeDnsReply reply;
  reply.ipv4 = {"192.0.2.1"};
  std::string response = make_dns_response(build_dns_query("a.example", QueryType::A, 1), reply);
  response[response.size() - 5] = 5;  // rdlength low byte
  response.push_back('\0');
  EXPECT_FALSE(parse_dns_response(response, obs));
}

TEST_F(DnsTest, GarbageNeverCrashesTheParser) {
  std::mt19937 generator(12345);
  std::uniform_int_distribution<int> byte(0, 255);
  std::uniform_int_distribution<int> length(0, 300);
  int accepted = 0;
  for (int i = 0; i < 20000; ++i) {
    std::string message(static_cast<size_t>(length(generator)), '\0');
    for (auto& c : message) c = static_cast<char>(byte(generator));
    format::DnsObservation obs;
    if (parse_dns_response(message, obs)) {
      ++accepted;
    } else {
      EXPECT_TRUE(obs.answers.empty());
    }
  }
  // Random bytes are almost never a well-formed response.
  EXPECT_LT(accepted, 200);
}

// -------------------------------------------------------------------- UDP

TEST_F(DnsTest, UdpAnswerIsParsedWithItsTtl) {
  FakeDnsReply reply;
  reply.ipv4 = {"198.18.0.7"};
  reply.ttl = 123;
  reply.ip_ttl = 57;
  FakeDnsServer server({reply});

  const auto results = query_udp("chat.example", {server.address(), QueryType::A, 2000ms, 0ms}, ctx);
  ASSERT_EQ(results.size(), 1u);
  const auto& obs = results[0];
  EXPECT_EQ(obs.failure, std::nullopt);
  EXPECT_EQ(obs.engine, "udp");
  EXPECT_EQ(obs.resolver_address, server.address());
  EXPECT_EQ(obs.hostname, "chat.example");
  EXPECT_EQ(obs.query_type, "A");
  EXPECT_EQ(obs.transaction_id, 7);
  EXPECT_EQ(obs.rcode, 0);
  ASSERT_EQ(obs.answers.size(), 1u);
  EXPECT_EQ(obs.answers[0].answer_type, "A");
  EXPECT_EQ(obs.answers[0].ipv4, "198.18.0.7");
  EXPECT_EQ(obs.answers[0].ttl, 123u);
  EXPECT_EQ(obs.ip_ttl, 57);
  EXPECT_EQ(obs.query_id, id_of(server.last_query()));
  EXPECT_EQ(obs.raw_response.size() > 12, true);
  EXPECT_TRUE(obs.tags.empty());
  EXPECT_LE(obs.t0, obs.t);
  EXPECT_EQ(server.queries_received(), 1);
}

TEST_F(DnsTest, UdpAaaaQuery) {
  FakeDnsReply reply;
  reply.ipv6 = {"2001:db8::53"};
  FakeDnsServer server({reply});
  const auto results =
      query_udp("chat.example", {server.address(), QueryType::AAAA, 2000ms, 0ms}, ctx);
  ASSERT_EQ(results.size(), 1u);
  EXPECT_EQ(results[0].failure, std::nullopt);
  EXPECT_EQ(results[0].query_type, "AAAA");
  ASSERT_EQ(results[0].answers.size(), 1u);
  EXPECT_EQ(results[0].answers[0].ipv6, "2001:db8::53");
  const std::string query = server.last_query();
  EXPECT_EQ(query.substr(query.size() - 4), std::string("\0\x1c\0\1", 4));
}

TEST_F(DnsTest, UdpOverIpv6RecordsHopLimit) {
  FakeDnsReply reply;
  reply.ipv4 = {"198.18.0.7"};
  reply.ip_ttl = 33;
  FakeDnsServer server({reply}, /*ipv6=*/true);
  const auto results =
      query_udp("chat.example", {server.address(), QueryType::A, 2000ms, 0ms}, ctx);
  ASSERT_EQ(results.size(), 1u);
  EXPECT_EQ(results[0].failure, std::nullopt);
  EXPECT_EQ(results[0].resolver_address, server.address());
  EXPECT_EQ(results[0].ip_ttl, 33);
  ASSERT_EQ(results[0].answers.size(), 1u);
}

TEST_F(DnsTest, UdpRejectsOutOfRangePort) {
  const auto results = query_udp("a.example", {"127.0.0.1:99999", QueryType::A, 100ms, 0ms}, ctx);
  ASSERT_EQ(results.size(), 1u);
  EXPECT_EQ(results[0].failure->rfind("unknown_failure: ", 0), 0u);
}

struct RcodeCase {
  int rcode;
  const char* failure;
};

class UdpRcodeTest : public DnsTest, public ::testing::WithParamInterface<RcodeCase> {};

TEST_P(UdpRcodeTest, RcodeBecomesFailure) {
  FakeDnsReply reply;
  reply.rcode = GetParam().rcode;
  FakeDnsServer server({reply});
  const auto results = query_udp("blocked.example", {server.address(), QueryType::A, 2000ms, 0ms}, ctx);
  ASSERT_EQ(results.size(), 1u);
  EXPECT_EQ(results[0].rcode, GetParam().rcode);
  EXPECT_EQ(results[0].failure, GetParam().failure);
  EXPECT_TRUE(results[0].answers.empty());
}

INSTANTIATE_TEST_SUITE_P(Rcodes, UdpRcodeTest,
                         ::testing::Values(RcodeCase{3, "dns_nxdomain_error"},
                                           RcodeCase{2, "dns_servfail_error"},
                                           RcodeCase{5, "dns_refused_error"},
                                           RcodeCase{0, "dns_no_answer"}));

TEST_F(DnsTest, UdpNoAnswerOfTheAskedType) {
  FakeDnsReply reply;
  reply.ipv6 = {"2001:db8::1"};  // AAAA in answer to an A query
  FakeDnsServer server({reply});
  const auto results = query_udp("a.example", {server.address(), QueryType::A, 2000ms, 0ms}, ctx);
  ASSERT_EQ(results.size(), 1u);
  EXPECT_EQ(results[0].failure, "dns_no_answer");
  EXPECT_EQ(results[0].answers.size(), 1u);  // still recorded as evidence
}

TEST_F(DnsTest, UdpSilenceTimesOut) {
  FakeDnsServer server({});
  const auto start = std::chrono::steady_clock::now();
  const auto results = query_udp("a.example", {server.address(), QueryType::A, 300ms, 500ms}, ctx);
  const auto elapsed = std::chrono::steady_clock::now() - start;
  ASSERT_EQ(results.size(), 1u);
  EXPECT_EQ(results[0].failure, "generic_timeout_error");
  EXPECT_TRUE(results[0].raw_response.empty());
  EXPECT_GE(elapsed, 300ms);
  EXPECT_LT(elapsed, 300ms + 1500ms);  // hold never applies without an answer
  EXPECT_EQ(server.queries_received(), 1);
}

// A lost query (or a lost answer) costs one resend interval, not the whole
// timeout: the same query, same id, goes out again until an answer comes,
// and the observation says it was resent.
TEST_F(DnsTest, UdpLostQueryIsResentUntilAnswered) {
  FakeDnsReply reply;
  reply.ipv4 = {"198.18.0.10"};
  FakeDnsServer server({reply});
  server.ignore_queries(2);
  UdpQueryOptions o{server.address(), QueryType::A, 3000ms, 0ms};
  o.resend_every = 200ms;
  const auto start = std::chrono::steady_clock::now();
  const auto results = query_udp("a.example", o, ctx);
  const auto elapsed = std::chrono::steady_clock::now() - start;
  ASSERT_EQ(results.size(), 1u);
  EXPECT_EQ(results[0].failure, std::nullopt);
  ASSERT_EQ(results[0].answers.size(), 1u);
  EXPECT_EQ(results[0].tags, std::vector<std::string>{"x_resent"});
  EXPECT_EQ(server.queries_received(), 3);
  EXPECT_GE(elapsed, 400ms);
  EXPECT_LT(elapsed, 2000ms);

  // Once answered, nothing more is sent, however long the hold-on lasts.
  FakeDnsServer quick({reply});
  o = {quick.address(), QueryType::A, 3000ms, 700ms};
  o.resend_every = 100ms;
  EXPECT_EQ(query_udp("a.example", o, ctx).front().tags, std::vector<std::string>{});
  EXPECT_EQ(quick.queries_received(), 1);

  // resend_every 0: the query goes out once, and silence is a timeout.
  FakeDnsServer silent({});
  o = {silent.address(), QueryType::A, 500ms, 0ms};
  o.resend_every = 0ms;
  EXPECT_EQ(query_udp("a.example", o, ctx).front().failure, "generic_timeout_error");
  EXPECT_EQ(silent.queries_received(), 1);
}

TEST_F(DnsTest, SystemResolverRetransmissionIsTunedOnlyWhenTheVolunteerHasNot) {
  const std::string conf = ::testing::TempDir() + "/resolv-" + std::to_string(::getpid()) + ".conf";
  auto write = [&](const std::string& text) { std::ofstream(conf) << text; };
  ::unsetenv("RES_OPTIONS");
  write("nameserver 198.18.0.53\n  options   timeout:5 rotate\n");
  EXPECT_EQ(tune_system_resolver_retransmission(conf), "");
  EXPECT_EQ(std::getenv("RES_OPTIONS"), nullptr);
  write("nameserver 198.18.0.53\noptions attempts:3\n");
  EXPECT_EQ(tune_system_resolver_retransmission(conf), "");
  write("nameserver 198.18.0.53\n# options timeout:1 (a comment)\noptions edns0\n");
  EXPECT_EQ(tune_system_resolver_retransmission(conf), "timeout:2 attempts:4");
  ASSERT_NE(std::getenv("RES_OPTIONS"), nullptr);
  EXPECT_STREQ(std::getenv("RES_OPTIONS"), "timeout:2 attempts:4");
  ::setenv("RES_OPTIONS", "timeout:9", 1);
  EXPECT_EQ(tune_system_resolver_retransmission(conf), "");  // the volunteer's own
  EXPECT_STREQ(std::getenv("RES_OPTIONS"), "timeout:9");
  ::unsetenv("RES_OPTIONS");
  std::remove(conf.c_str());
}

TEST_F(DnsTest, UdpRecordsBothRacingResponsesInArrivalOrder) {
  FakeDnsReply forged;
  forged.ipv4 = {"198.18.66.66"};
  forged.ttl = 47;
  forged.ip_ttl = 40;
  FakeDnsReply real;
  real.ipv4 = {"198.18.0.10"};
  real.ttl = 200;
  real.ip_ttl = 64;
  real.delay = 150ms;
  FakeDnsServer server({forged, real});

  const auto results =
      query_udp("chat.example", {server.address(), QueryType::A, 2000ms, 1000ms}, ctx);
  ASSERT_EQ(results.size(), 2u);
  EXPECT_EQ(results[0].failure, std::nullopt);
  EXPECT_EQ(results[1].failure, std::nullopt);
  ASSERT_EQ(results[0].answers.size(), 1u);
  ASSERT_EQ(results[1].answers.size(), 1u);
  EXPECT_EQ(results[0].answers[0].ipv4, "198.18.66.66");
  EXPECT_EQ(results[0].answers[0].ttl, 47u);
  EXPECT_EQ(results[1].answers[0].ipv4, "198.18.0.10");
  EXPECT_EQ(results[1].answers[0].ttl, 200u);
  EXPECT_EQ(results[0].ip_ttl, 40);
  EXPECT_EQ(results[1].ip_ttl, 64);
  EXPECT_TRUE(results[0].tags.empty());
  EXPECT_EQ(results[1].tags, std::vector<std::string>{"x_hold_on"});
  EXPECT_LT(results[0].t, results[1].t);
  EXPECT_EQ(results[0].t0, results[1].t0);
  EXPECT_GE(results[1].t - results[0].t, 0.1);
}

TEST_F(DnsTest, UdpHoldOnListensForTheWholeWindow) {
  FakeDnsReply reply;
  reply.ipv4 = {"198.18.0.10"};
  FakeDnsServer server({reply});
  const auto start = std::chrono::steady_clock::now();
  const auto results =
      query_udp("chat.example", {server.address(), QueryType::A, 2000ms, 400ms}, ctx);
  const auto elapsed = std::chrono::steady_clock::now() - start;
  EXPECT_EQ(results.size(), 1u);
  EXPECT_GE(elapsed, 400ms);
  EXPECT_LT(elapsed, 2000ms);
}

TEST_F(DnsTest, UdpManyHoldsEveryQueryAtOnce) {
  FakeDnsReply forged, real;
  forged.ipv4 = {"198.18.4.4"};
  forged.ip_ttl = 60;
  real.ipv4 = {"198.18.0.10"};
  FakeDnsServer server({forged, real});
  std::vector<UdpQuery> queries;
  for (int i = 0; i < 40; ++i) queries.push_back({"n" + std::to_string(i) + ".example", {&clock, 100 + i}});
  const auto start = std::chrono::steady_clock::now();
  const auto results = query_udp_many(queries, {server.address(), QueryType::A, 2000ms, 400ms});
  const auto elapsed = std::chrono::steady_clock::now() - start;
  // One 400 ms window for all 40, not 40 / 16 waves of it.
  EXPECT_GE(elapsed, 400ms);
  EXPECT_LT(elapsed, 750ms);
  EXPECT_EQ(server.queries_received(), 40);
  ASSERT_EQ(results.size(), 40u);
  for (int i = 0; i < 40; ++i) {
    ASSERT_EQ(results[i].size(), 2u) << i;  // the race is kept for every name
    EXPECT_EQ(results[i][0].hostname, queries[i].hostname);
    EXPECT_EQ(results[i][0].transaction_id, 100 + i);
    EXPECT_EQ(results[i][0].ip_ttl, 60);
    EXPECT_EQ(results[i][1].answers.at(0).ipv4, "198.18.0.10");
  }
}

TEST_F(DnsTest, UdpManyKeepsEachQuerysOwnFailure) {
  FakeDnsServer silent({});
  const auto results =
      query_udp_many({{"a.example", ctx}, {std::string(70, 'x') + ".example", ctx}}, {silent.address(), QueryType::A, 300ms, 0ms});
  ASSERT_EQ(results.size(), 2u);
  EXPECT_EQ(results[0].at(0).failure.value_or(""), "generic_timeout_error");
  EXPECT_NE(results[1].at(0).failure.value_or("").find("cannot be encoded"), std::string::npos);
}

TEST_F(DnsTest, UdpLateAnswerAfterHoldIsNotRecorded) {
  FakeDnsReply first;
  first.ipv4 = {"198.18.0.1"};
  FakeDnsReply late;
  late.ipv4 = {"198.18.0.2"};
  late.delay = 600ms;
  FakeDnsServer server({first, late});
  const auto results =
      query_udp("chat.example", {server.address(), QueryType::A, 2000ms, 100ms}, ctx);
  ASSERT_EQ(results.size(), 1u);
  EXPECT_EQ(results[0].answers[0].ipv4, "198.18.0.1");
}

TEST_F(DnsTest, UdpWrongQueryIdIsRecordedButDoesNotEndTheWait) {
  FakeDnsReply wrong;
  wrong.ipv4 = {"198.18.66.66"};
  wrong.wrong_id = true;
  FakeDnsServer server({wrong});
  const auto start = std::chrono::steady_clock::now();
  const auto results = query_udp("a.example", {server.address(), QueryType::A, 300ms, 0ms}, ctx);
  const auto elapsed = std::chrono::steady_clock::now() - start;
  ASSERT_EQ(results.size(), 1u);
  EXPECT_EQ(results[0].failure, "dns_reply_with_wrong_query_id");
  ASSERT_EQ(results[0].answers.size(), 1u);
  EXPECT_EQ(results[0].answers[0].ipv4, "198.18.66.66");
  EXPECT_EQ(results[0].query_id, id_of(server.last_query()) ^ 0x5a5a);
  EXPECT_GE(elapsed, 300ms);
}

TEST_F(DnsTest, UdpWrongIdThenRealAnswer) {
  FakeDnsReply wrong;
  wrong.ipv4 = {"198.18.66.66"};
  wrong.wrong_id = true;
  FakeDnsReply real;
  real.ipv4 = {"198.18.0.10"};
  real.delay = 50ms;
  FakeDnsServer server({wrong, real});
  const auto results = query_udp("a.example", {server.address(), QueryType::A, 2000ms, 0ms}, ctx);
  ASSERT_EQ(results.size(), 2u);
  EXPECT_EQ(results[0].failure, "dns_reply_with_wrong_query_id");
  EXPECT_EQ(results[1].failure, std::nullopt);
  EXPECT_EQ(results[1].query_id, id_of(server.last_query()));
  EXPECT_EQ(results[1].tags, std::vector<std::string>{"x_hold_on"});
}

TEST_F(DnsTest, UdpMalformedResponseIsRecorded) {
  FakeDnsReply garbage;
  garbage.raw = std::string("\x12\x34\x81\x80\0\1\0\1\0\0\0\0\3abc", 16);
  FakeDnsServer server({garbage});
  const auto results = query_udp("a.example", {server.address(), QueryType::A, 300ms, 0ms}, ctx);
  ASSERT_EQ(results.size(), 1u);
  EXPECT_EQ(results[0].failure, "dns_server_misbehaving");
  EXPECT_EQ(results[0].raw_response, garbage.raw);
}

TEST_F(DnsTest, UdpClosedPortIsConnectionRefused) {
  // Find a free loopback UDP port, then close it so nothing listens there.
  int fd = ::socket(AF_INET, SOCK_DGRAM, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof(addr);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  ASSERT_EQ(::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &length), 0);
  ::close(fd);
  const std::string resolver = "127.0.0.1:" + std::to_string(ntohs(addr.sin_port));

  const auto results = query_udp("a.example", {resolver, QueryType::A, 2000ms, 0ms}, ctx);
  ASSERT_EQ(results.size(), 1u);
  EXPECT_EQ(results[0].failure, "connection_refused");
}

TEST_F(DnsTest, UdpRejectsBadResolverAddress) {
  const auto results = query_udp("a.example", {"not-an-ip", QueryType::A, 100ms, 0ms}, ctx);
  ASSERT_EQ(results.size(), 1u);
  ASSERT_TRUE(results[0].failure.has_value());
  EXPECT_EQ(results[0].failure->rfind("unknown_failure: ", 0), 0u);
}

// ------------------------------------------------------------ getaddrinfo

// Runs `body` on a thread that has its own, empty network namespace (loopback
// down, no routes): whatever the system resolver is configured with, a query
// cannot leave the machine. getaddrinfo's helper thread inherits it.
bool run_isolated(const std::function<void()>& body) {
  bool isolated = false;
  std::thread worker([&] {
    if (::unshare(CLONE_NEWNET) != 0) return;
    isolated = true;
    body();
  });
  worker.join();
  return isolated;
}

TEST_F(DnsTest, GetaddrinfoResolvesLocalhost) {
  format::DnsObservation obs;
  if (!run_isolated([&] { obs = lookup_getaddrinfo("localhost", 5000ms, ctx); })) {
    GTEST_SKIP() << "cannot create a network namespace (needs CAP_SYS_ADMIN)";
  }
  EXPECT_EQ(obs.failure, std::nullopt);
  EXPECT_EQ(obs.engine, "getaddrinfo");
  EXPECT_EQ(obs.query_type, "ANY");
  EXPECT_EQ(obs.getaddrinfo_error, 0);
  EXPECT_EQ(obs.transaction_id, 7);
  ASSERT_FALSE(obs.answers.empty());
  bool loopback = false;
  for (const auto& answer : obs.answers) {
    EXPECT_EQ(answer.ttl, 0u);
    loopback = loopback || answer.ipv4 == "127.0.0.1" || answer.ipv6 == "::1";
  }
  EXPECT_TRUE(loopback);
  EXPECT_LE(obs.t0, obs.t);
}

TEST_F(DnsTest, GetaddrinfoFailsForInvalidTld) {
  format::DnsObservation obs;
  if (!run_isolated([&] { obs = lookup_getaddrinfo("vantage-test.invalid", 5000ms, ctx); })) {
    GTEST_SKIP() << "cannot create a network namespace (needs CAP_SYS_ADMIN)";
  }
  ASSERT_TRUE(obs.failure.has_value());
  // With no reachable resolver: temporary failure; with one: NXDOMAIN.
  EXPECT_TRUE(*obs.failure == "dns_temporary_failure" || *obs.failure == "dns_nxdomain_error")
      << *obs.failure;
  ASSERT_TRUE(obs.getaddrinfo_error.has_value());
  EXPECT_NE(*obs.getaddrinfo_error, 0);
  EXPECT_TRUE(obs.answers.empty());
}

// A stand-in for getaddrinfo that answers `name` after `delay`.
SystemLookups::LookupFn slow_answers(std::map<std::string, std::chrono::milliseconds> delays) {
  return [delays](const std::string& name, std::chrono::milliseconds, const StepContext&) {
    std::this_thread::sleep_for(delays.at(name));
    format::DnsObservation q;
    q.answers.push_back({"A", "192.0.2.1", "", "", 0});
    return q;
  };
}

// Every lookup runs at once and comes back as it finishes, not in the
// order started: one slow name does not hold the others back.
TEST_F(DnsTest, SystemLookupsComeBackInTheOrderTheyFinish) {
  SystemLookups lookups(slow_answers({{"slow.test", 600ms}, {"fast.test", 10ms}, {"mid.test", 200ms}}));
  const auto t0 = std::chrono::steady_clock::now();
  lookups.start(0, "slow.test", 5000ms, ctx);
  lookups.start(1, "fast.test", 5000ms, ctx);
  lookups.start(2, "mid.test", 5000ms, ctx);
  std::vector<std::size_t> order;
  std::vector<double> at;
  while (auto r = lookups.next()) {
    order.push_back(r->tag);
    at.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    EXPECT_EQ(r->observation.engine, "getaddrinfo");
    EXPECT_EQ(r->observation.transaction_id, 7);
    EXPECT_FALSE(r->observation.failure.has_value());
    ASSERT_EQ(r->observation.answers.size(), 1u);
    EXPECT_LE(r->observation.t0, r->observation.t);
  }
  EXPECT_EQ(order, (std::vector<std::size_t>{1, 2, 0}));
  ASSERT_EQ(at.size(), 3u);
  EXPECT_LT(at[0], 0.15);   // the fast name did not wait for the slow one
  EXPECT_LT(at[2], 0.95);   // all ran at once: 600 ms, not 810 ms in a row
  EXPECT_FALSE(lookups.next().has_value());
}

// A lookup past its timeout is reported as a timeout when its time is up,
// while the others still finish; its thread, still running, may outlive
// the SystemLookups without touching anything of it.
TEST_F(DnsTest, SystemLookupsTimeOutOneWithoutTheOthers) {
  {
    SystemLookups lookups(slow_answers({{"stuck.test", 800ms}, {"ok.test", 50ms}}));
    lookups.start(0, "stuck.test", 150ms, ctx);
    lookups.start(1, "ok.test", 5000ms, ctx);
    auto first = lookups.next();
    ASSERT_TRUE(first.has_value());
    EXPECT_EQ(first->tag, 1u);
    EXPECT_FALSE(first->observation.failure.has_value());
    auto second = lookups.next();
    ASSERT_TRUE(second.has_value());
    EXPECT_EQ(second->tag, 0u);
    EXPECT_EQ(second->observation.failure.value_or(""), "generic_timeout_error");
    EXPECT_TRUE(second->observation.answers.empty());
    EXPECT_GE(second->observation.t - second->observation.t0, 0.14);
    EXPECT_LT(second->observation.t - second->observation.t0, 0.5);
    EXPECT_FALSE(lookups.next().has_value());
  }
  // The stuck lookup's thread finishes now, after its SystemLookups is
  // gone (ASan would see a use after free).
  std::this_thread::sleep_for(900ms);
}

// -------------------------------------------------------------------- DoH

// A handler answering every DoH query with `reply`, remembering what it got.
FakeDohServer::Handler answering(FakeDnsReply reply, std::string* seen_query = nullptr,
                                 std::string* seen_content_type = nullptr) {
  return [reply, seen_query, seen_content_type](const std::string& body,
                                                const std::string& content_type) {
    if (seen_query) *seen_query = body;
    if (seen_content_type) *seen_content_type = content_type;
    FakeHttpResponse response;
    response.body = make_dns_response(body, reply);
    return response;
  };
}

TEST_F(DnsTest, DohAnswer) {
  FakeDnsReply reply;
  reply.ipv4 = {"198.18.0.20"};
  reply.ttl = 99;
  std::string seen_query, seen_content_type;
  FakeDohServer server("IP:127.0.0.1", answering(reply, &seen_query, &seen_content_type));

  DohQueryOptions options{server.url(), QueryType::A, 5000ms, server.ca_bundle()};
  const auto obs = query_doh("chat.example", options, ctx);
  EXPECT_EQ(obs.failure, std::nullopt);
  EXPECT_EQ(obs.engine, "doh");
  EXPECT_EQ(obs.resolver_address, server.url());
  EXPECT_EQ(obs.query_type, "A");
  EXPECT_EQ(obs.rcode, 0);
  ASSERT_EQ(obs.answers.size(), 1u);
  EXPECT_EQ(obs.answers[0].ipv4, "198.18.0.20");
  EXPECT_EQ(obs.answers[0].ttl, 99u);
  EXPECT_EQ(seen_content_type, "application/dns-message");
  ASSERT_GE(seen_query.size(), 12u);
  EXPECT_EQ(id_of(seen_query), 0);
  EXPECT_EQ(seen_query, build_dns_query("chat.example", QueryType::A, 0));
}

TEST_F(DnsTest, DohNxdomain) {
  FakeDnsReply reply;
  reply.rcode = 3;
  FakeDohServer server("IP:127.0.0.1", answering(reply));
  const auto obs =
      query_doh("gone.example", {server.url(), QueryType::A, 5000ms, server.ca_bundle()}, ctx);
  EXPECT_EQ(obs.failure, "dns_nxdomain_error");
  EXPECT_EQ(obs.rcode, 3);
}

TEST_F(DnsTest, DohUntrustedCertificateIsUnknownAuthority) {
  FakeDohServer server("IP:127.0.0.1", answering(FakeDnsReply{}));
  // No CA bundle: the system store does not know the test certificate.
  const auto obs = query_doh("chat.example", {server.url(), QueryType::A, 5000ms, ""}, ctx);
  EXPECT_EQ(obs.failure, "ssl_unknown_authority");
  EXPECT_TRUE(obs.answers.empty());
}

TEST_F(DnsTest, DohCertificateForAnotherNameIsInvalidHostname) {
  FakeDohServer server("DNS:other.example", answering(FakeDnsReply{}));
  const auto obs =
      query_doh("chat.example", {server.url(), QueryType::A, 5000ms, server.ca_bundle()}, ctx);
  EXPECT_EQ(obs.failure, "ssl_invalid_hostname");
}

TEST_F(DnsTest, DohHttpErrorIsServerMisbehaving) {
  FakeDohServer server("IP:127.0.0.1", [](const std::string&, const std::string&) {
    return FakeHttpResponse{500, "text/plain", "oops", 0ms};
  });
  const auto obs =
      query_doh("chat.example", {server.url(), QueryType::A, 5000ms, server.ca_bundle()}, ctx);
  EXPECT_EQ(obs.failure, "dns_server_misbehaving");
}

TEST_F(DnsTest, DohGarbageBodyIsServerMisbehaving) {
  FakeDohServer server("IP:127.0.0.1", [](const std::string&, const std::string&) {
    return FakeHttpResponse{200, "application/dns-message", "<html>blocked</html>", 0ms};
  });
  const auto obs =
      query_doh("chat.example", {server.url(), QueryType::A, 5000ms, server.ca_bundle()}, ctx);
  EXPECT_EQ(obs.failure, "dns_server_misbehaving");
  EXPECT_EQ(obs.raw_response, "<html>blocked</html>");
}

TEST_F(DnsTest, DohSlowServerTimesOut) {
  FakeDohServer server("IP:127.0.0.1", [](const std::string& body, const std::string&) {
    return FakeHttpResponse{200, "application/dns-message",
                            make_dns_response(body, FakeDnsReply{}), 1200ms};
  });
  const auto start = std::chrono::steady_clock::now();
  const auto obs =
      query_doh("chat.example", {server.url(), QueryType::A, 300ms, server.ca_bundle()}, ctx);
  const auto elapsed = std::chrono::steady_clock::now() - start;
  EXPECT_EQ(obs.failure, "generic_timeout_error");
  EXPECT_LT(elapsed, 1100ms);
}

TEST_F(DnsTest, DohClosedPortIsConnectionRefused) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof(addr);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  ASSERT_EQ(::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &length), 0);
  ::close(fd);  // bound but never listened: connections are refused
  const std::string url = "https://127.0.0.1:" + std::to_string(ntohs(addr.sin_port)) + "/dns-query";
  const auto obs = query_doh("chat.example", {url, QueryType::A, 2000ms, ""}, ctx);
  EXPECT_EQ(obs.failure, "connection_refused");
  EXPECT_EQ(obs.resolver_address, url);
}

}  // namespace
}  // namespace vantage::net
