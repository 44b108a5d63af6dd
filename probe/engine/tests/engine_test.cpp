// Engine tests against real loopback servers: sharing of chains, retry on
// timeout, the overall deadline, interruption and control queries.
// Hosts are IP literals (never looked up) or names resolved by a stand-in
// for the system lookup, so nothing is ever asked of the host's resolver.
#include "probe/engine/engine.h"
#include "probe/engine/parallel.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <thread>

#include "probe/net/tests/fake_dns_server.h"
#include "probe/net/tests/loopback_servers.h"
#include "probe/net/tests/test_pki.h"

namespace vantage::engine {
namespace {

using catalog::Chain;
using namespace std::chrono_literals;
using net::testing::ClosedPort;
using net::testing::RawTcpServer;
using net::testing::SaturatedListener;

catalog::Endpoint tcp_endpoint(const std::string& host, std::vector<int> ports, const std::string& feature = "messaging") {
  catalog::Endpoint e;
  e.host = host;
  e.ports = std::move(ports);
  e.chain = Chain::Tcp;
  e.feature = feature;
  return e;
}

catalog::Catalog one_service(std::vector<catalog::Endpoint> endpoints) {
  catalog::Service s;
  s.name = s.test_name = "svc";
  s.test_version = "0.1.0";
  s.features = {{"messaging", "", "any"}};
  s.endpoints = std::move(endpoints);
  catalog::Catalog c;
  c.services.push_back(std::move(s));
  return c;
}

EngineOptions loopback_options() {
  EngineOptions o;
  o.reject_bogons = false;  // everything here is on 127.0.0.1
  o.udp_resolver = "";      // never ask the host's resolver from a unit test
  o.connect_timeout = 300ms;
  o.dns_timeout = 2000ms;
  return o;
}

// Resolves every name to `ip` (as getaddrinfo would with that answer),
// counting the lookups.
struct StandInLookup {
  std::string ip = "127.0.0.1";
  std::vector<std::string> ipv6;  // AAAA answers beside it
  std::shared_ptr<std::atomic<int>> calls = std::make_shared<std::atomic<int>>(0);
  format::DnsObservation operator()(const std::string& name, std::chrono::milliseconds, const net::StepContext& ctx) const {
    ++*calls;
    format::DnsObservation q;
    q.transaction_id = ctx.transaction_id;
    q.engine = "getaddrinfo";
    q.hostname = name;
    q.query_type = "ANY";
    q.answers.push_back({"A", ip, "", "", 0});
    for (const auto& a : ipv6) q.answers.push_back({"AAAA", "", a, "", 0});
    return q;
  }
};

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

TEST(Engine, MeasuresEachAddressOnceAndSharesTheResult) {
  RawTcpServer server(RawTcpServer::Behaviour::kHold);
  // Same IP:port under two endpoints (both the literal 127.0.0.1).
  auto cat = one_service({tcp_endpoint("127.0.0.1", {server.port()}), tcp_endpoint("127.0.0.1", {server.port()})});
  auto result = run(cat, {"svc"}, loopback_options());
  const auto& obs = result.services.at("svc");
  EXPECT_EQ(obs.tcp_connect.size(), 1u);
  ASSERT_EQ(obs.endpoints.size(), 2u);
  EXPECT_EQ(obs.endpoints[0].transaction_id, obs.endpoints[1].transaction_id);
  EXPECT_FALSE(obs.tcp_connect[0].failure.has_value());
  EXPECT_TRUE(obs.queries.empty());  // an address literal is not looked up
}

catalog::Exchange hello_exchange() {
  catalog::Exchange x;
  x.name = "demo_hello";
  x.send = {{"WA", 0}, {"", 4}};  // fixed bytes, then fresh random ones
  x.max_read = 64;
  return x;
}

// After the connect, the endpoint's exchange is sent in the same
// transaction and what came back is recorded; the plan names it.
TEST(Engine, RunsTheEndpointsExchangeAfterTheConnect) {
  RawTcpServer server(RawTcpServer::Behaviour::kAnswerAndHold, false, "server-hello");
  catalog::Endpoint e = tcp_endpoint("127.0.0.1", {server.port()});
  e.exchange = hello_exchange();
  auto result = run(one_service({e}), {"svc"}, loopback_options());
  const auto& obs = result.services.at("svc");
  ASSERT_EQ(obs.tcp_connect.size(), 1u);
  ASSERT_EQ(obs.app_exchanges.size(), 1u);
  const auto& x = obs.app_exchanges[0];
  EXPECT_FALSE(x.failure.has_value()) << *x.failure;
  EXPECT_EQ(x.exchange, "demo_hello");
  EXPECT_EQ(x.sent_bytes, 6u);
  EXPECT_EQ(x.received_bytes, 12u);
  EXPECT_EQ(x.transaction_id, obs.tcp_connect[0].transaction_id);
  EXPECT_EQ(server.first_flight().substr(0, 2), "WA");
  EXPECT_EQ(server.first_flight().size(), 6u);
  ASSERT_EQ(obs.endpoints.size(), 1u);
  EXPECT_EQ(obs.endpoints[0].exchange, "demo_hello");
}

// A reset once the bytes passed ends the chain with that failure, no retry;
// silence is a timeout, retried once like any step.
TEST(Engine, AnExchangeCutOrStarvedIsTheChainsFailure) {
  RawTcpServer reset(RawTcpServer::Behaviour::kResetAfterClientHello);
  RawTcpServer silent(RawTcpServer::Behaviour::kHold);
  catalog::Endpoint a = tcp_endpoint("127.0.0.1", {reset.port(), silent.port()});
  a.exchange = hello_exchange();
  auto opt = loopback_options();
  opt.exchange_timeout = 300ms;
  auto result = run(one_service({a}), {"svc"}, opt);
  const auto& obs = result.services.at("svc");
  ASSERT_EQ(obs.app_exchanges.size(), 3u);  // reset once, silent twice
  int resets = 0, timeouts = 0;
  for (const auto& x : obs.app_exchanges) {
    EXPECT_EQ(x.sent_bytes, 6u);
    if (x.failure == std::optional<std::string>("connection_reset")) ++resets;
    if (x.failure == std::optional<std::string>("generic_timeout_error")) ++timeouts;
  }
  EXPECT_EQ(resets, 1);
  EXPECT_EQ(timeouts, 2);
  for (const auto& ep : obs.endpoints) EXPECT_EQ(ep.attempts, *ep.port == reset.port() ? 1 : 2);
}

// A bare connect and an exchange at the same address are two chains.
TEST(Engine, AnExchangeIsAChainOfItsOwnBesideABareConnect) {
  RawTcpServer server(RawTcpServer::Behaviour::kAnswerAndHold, false, "hi");
  catalog::Endpoint bare = tcp_endpoint("127.0.0.1", {server.port()});
  catalog::Endpoint app = bare;
  app.exchange = hello_exchange();
  auto result = run(one_service({bare, app}), {"svc"}, loopback_options());
  const auto& obs = result.services.at("svc");
  EXPECT_EQ(obs.tcp_connect.size(), 2u);
  EXPECT_EQ(obs.app_exchanges.size(), 1u);
}

// WeChat's catalog exchanges, as the real catalog spells them.
const catalog::Service& wechat_catalog() {
  static const catalog::LoadResult r = catalog::load_catalog_dir(std::string(VANTAGE_SOURCE_DIR) + "/tests_catalog");
  const catalog::Service* s = r.catalog.find("wechat");
  if (s == nullptr) throw std::runtime_error("no wechat service in tests_catalog");
  return *s;
}

// The long link's exchange: MMTLS's opening record, 226 bytes, sent whole
// after the connect; a server's ServerHello-shaped record is the answer.
TEST(Engine, SendsWeChatsMmtlsClientHelloToALongLinkServer) {
  const std::string server_hello = std::string("\x16\xf1\x04\x00\x08\x00\x00\x00\x04\x02\x04\xf1\xc0", 13);
  RawTcpServer server(RawTcpServer::Behaviour::kAnswerAndHold, false, server_hello);
  catalog::Endpoint e = tcp_endpoint("127.0.0.1", {server.port()});
  for (const auto& ep : wechat_catalog().endpoints)
    if (ep.feature == "messaging") e.exchange = ep.exchange;
  ASSERT_TRUE(e.exchange.has_value());
  auto result = run(one_service({e}), {"svc"}, loopback_options());
  const auto& obs = result.services.at("svc");
  ASSERT_EQ(obs.app_exchanges.size(), 1u);
  const auto& x = obs.app_exchanges[0];
  EXPECT_FALSE(x.failure.has_value()) << *x.failure;
  EXPECT_EQ(x.exchange, "wechat_mmtls");
  EXPECT_EQ(x.sent_bytes, 226u);
  EXPECT_EQ(x.received_bytes, server_hello.size());
  const std::string flight = server.first_flight();
  ASSERT_EQ(flight.size(), 226u);  // the record whole, nothing more
  EXPECT_EQ(flight.substr(0, 5), std::string("\x16\xf1\x04\x00\xdd", 5));
  EXPECT_EQ(flight[73], '\x04');   // the first key, uncompressed
  EXPECT_EQ(flight[148], '\x04');  // the second
}

// The HTTP-DNS service is asked with a bare GET of newgetdns: the server
// (which refuses any query string) answers its XML list.
TEST(Engine, AsksWeChatsHttpDnsServiceWithoutAQueryString) {
  net::testing::HttpServer server;
  catalog::Endpoint e;
  for (const auto& ep : wechat_catalog().endpoints)
    if (ep.feature == "dns_service") e = ep;
  ASSERT_EQ(e.chain, Chain::Http);
  const std::string path = e.url.substr(e.url.find('/', std::string("http://").size()));
  EXPECT_EQ(path, "/cgi-bin/micromsg-bin/newgetdns");
  e.host = "127.0.0.1";
  e.ports = {server.port()};
  e.url = "http://127.0.0.1:" + std::to_string(server.port()) + path;
  e.feature = "messaging";
  auto result = run(one_service({e}), {"svc"}, loopback_options());
  const auto& obs = result.services.at("svc");
  ASSERT_EQ(obs.requests.size(), 1u);
  const auto& r = obs.requests[0];
  EXPECT_FALSE(r.failure.has_value()) << *r.failure;
  EXPECT_EQ(r.method, "GET");
  EXPECT_EQ(r.status_code.value_or(0), 200);
  EXPECT_NE(r.response_body.data.find("<domainlist>"), std::string::npos) << r.response_body.data;
}

// A tls or https endpoint's exchange runs inside the TLS session, after the
// handshake, on the same connection and in the same transaction: the server
// sees it as application data.
catalog::Catalog tls_exchange_service(int port, Chain chain) {
  catalog::Endpoint e = tcp_endpoint("good.test", {port});
  e.chain = chain;
  if (chain == Chain::Https) e.url = "https://good.test:" + std::to_string(port) + "/";
  e.alpn = {"http/1.1"};
  e.exchange = hello_exchange();
  auto cat = one_service({e});
  cat.services[0].system_store = false;
  cat.services[0].pinned_pem = net::testing::test_pki().root.cert_pem;
  return cat;
}

TEST(Engine, RunsATlsEndpointsExchangeInsideTheSession) {
  net::testing::TlsServer server({net::testing::test_pki().good_leaf}, {"http/1.1"},
                                 net::testing::TlsServer::After::kAnswer, "HTTP/1.1 101 Switching Protocols\r\n\r\n");
  auto opt = loopback_options();
  opt.system_lookup = StandInLookup{};
  auto result = run(tls_exchange_service(server.port(), Chain::Tls), {"svc"}, opt);
  const auto& obs = result.services.at("svc");
  ASSERT_EQ(obs.tls_handshakes.size(), 1u);
  EXPECT_FALSE(obs.tls_handshakes[0].failure.has_value()) << *obs.tls_handshakes[0].failure;
  ASSERT_EQ(obs.app_exchanges.size(), 1u);
  const auto& x = obs.app_exchanges[0];
  EXPECT_FALSE(x.failure.has_value()) << *x.failure;
  EXPECT_EQ(x.sent_bytes, 6u);
  EXPECT_EQ(x.received_head, "HTTP/1.1 101 Swi");
  EXPECT_EQ(x.transaction_id, obs.tls_handshakes[0].transaction_id);
  EXPECT_EQ(server.first_data().substr(0, 2), "WA");
  EXPECT_EQ(server.first_data().size(), 6u);
  EXPECT_EQ(server.handshakes(), 1);  // the handshake's own connection, no second one
  // The events in the order they happened: the handshake, then the exchange.
  std::vector<std::string> ops;
  for (const auto& ev : obs.network_events)
    if (ev.transaction_id == x.transaction_id) ops.push_back(ev.operation);
  EXPECT_EQ(ops, (std::vector<std::string>{"connect", "tls_handshake_start", "tls_handshake_done", "app_exchange_start",
                                           "app_exchange_done"}));
  ASSERT_EQ(obs.endpoints.size(), 1u);
  EXPECT_EQ(obs.endpoints[0].exchange, "demo_hello");
}

// Reset once the app's bytes pass: the chain's failure; an https chain
// records its request as stopped by it and never makes it.
TEST(Engine, ATlsExchangeCutStopsTheHttpsChain) {
  net::testing::TlsServer server({net::testing::test_pki().good_leaf}, {"http/1.1"},
                                 net::testing::TlsServer::After::kResetOnData);
  auto opt = loopback_options();
  opt.system_lookup = StandInLookup{};
  auto result = run(tls_exchange_service(server.port(), Chain::Https), {"svc"}, opt);
  const auto& obs = result.services.at("svc");
  ASSERT_EQ(obs.tls_handshakes.size(), 1u);
  EXPECT_FALSE(obs.tls_handshakes[0].failure.has_value());
  ASSERT_EQ(obs.app_exchanges.size(), 1u);
  EXPECT_EQ(obs.app_exchanges[0].failure.value_or(""), "connection_reset");
  ASSERT_EQ(obs.requests.size(), 1u);
  EXPECT_EQ(obs.requests[0].failure.value_or(""), "connection_reset");
  EXPECT_FALSE(obs.requests[0].status_code.has_value());
  EXPECT_EQ(server.handshakes(), 1);  // no HTTP connection after the cut
  EXPECT_EQ(obs.endpoints[0].attempts, 1);
}

TEST(Engine, RecordsRefusedWithoutRetry) {
  ClosedPort closed;
  auto cat = one_service({tcp_endpoint("127.0.0.1", {closed.port()})});
  auto result = run(cat, {"svc"}, loopback_options());
  const auto& obs = result.services.at("svc");
  ASSERT_EQ(obs.tcp_connect.size(), 1u);
  EXPECT_EQ(obs.tcp_connect[0].failure.value_or(""), "connection_refused");
  EXPECT_EQ(obs.endpoints[0].attempts, 1);
}

TEST(Engine, AnHttpsChainStoppedBeforeHttpStillRecordsItsRequest) {
  ClosedPort closed;
  catalog::Endpoint e = tcp_endpoint("127.0.0.1", {closed.port()}, "web");
  e.chain = Chain::Https;
  e.url = "https://127.0.0.1:" + std::to_string(closed.port()) + "/";
  auto cat = one_service({e});
  cat.services[0].features = {{"web", "", "all"}};
  auto result = run(cat, {"svc"}, loopback_options());
  const auto& obs = result.services.at("svc");
  ASSERT_EQ(obs.tcp_connect.size(), 1u);
  ASSERT_EQ(obs.requests.size(), 1u);
  EXPECT_EQ(obs.requests[0].failure.value_or(""), "connection_refused");
  EXPECT_EQ(obs.requests[0].url, e.url);
  EXPECT_EQ(obs.requests[0].transaction_id, obs.tcp_connect[0].transaction_id);
  EXPECT_FALSE(obs.requests[0].status_code.has_value());
}

TEST(Engine, RetriesATimeoutOnceAndKeepsBothAttempts) {
  SaturatedListener blackhole;
  auto cat = one_service({tcp_endpoint("127.0.0.1", {blackhole.port()})});
  auto t0 = std::chrono::steady_clock::now();
  auto result = run(cat, {"svc"}, loopback_options());
  double took = seconds_since(t0);
  const auto& obs = result.services.at("svc");
  ASSERT_EQ(obs.tcp_connect.size(), 2u);
  EXPECT_EQ(obs.tcp_connect[0].failure.value_or(""), "generic_timeout_error");
  EXPECT_EQ(obs.tcp_connect[1].failure.value_or(""), "generic_timeout_error");
  EXPECT_NE(std::find(obs.tcp_connect[0].tags.begin(), obs.tcp_connect[0].tags.end(), "x_retried"),
            obs.tcp_connect[0].tags.end());
  EXPECT_EQ(obs.endpoints[0].attempts, 2);
  EXPECT_EQ(obs.endpoints[0].transaction_id, obs.tcp_connect[1].transaction_id);
  EXPECT_GE(took, 0.55);
}

TEST(Engine, BlackHoledEndpointsCostOneTimeoutPlusRetryNotTheSum) {
  std::vector<std::unique_ptr<SaturatedListener>> holes;
  std::vector<catalog::Endpoint> eps;
  for (int i = 0; i < 10; ++i) {
    holes.push_back(std::make_unique<SaturatedListener>());
    eps.push_back(tcp_endpoint("127.0.0.1", {holes.back()->port()}));
  }
  auto cat = one_service(eps);
  auto t0 = std::chrono::steady_clock::now();
  auto result = run(cat, {"svc"}, loopback_options());
  double took = seconds_since(t0);
  const auto& obs = result.services.at("svc");
  EXPECT_EQ(obs.endpoints.size(), 10u);
  // 10 × 2 × 0.3 s = 6 s if serial; in parallel about 0.6 s.
  EXPECT_LT(took, 3.0);
}

TEST(Engine, DeadlineStopsChainsThatHaveNotStarted) {
  std::vector<std::unique_ptr<SaturatedListener>> holes;
  std::vector<catalog::Endpoint> eps;
  for (int i = 0; i < 6; ++i) {
    holes.push_back(std::make_unique<SaturatedListener>());
    eps.push_back(tcp_endpoint("127.0.0.1", {holes.back()->port()}));
  }
  auto cat = one_service(eps);
  auto opt = loopback_options();
  opt.parallelism = 1;
  opt.deadline = 1000ms;
  auto t0 = std::chrono::steady_clock::now();
  auto result = run(cat, {"svc"}, opt);
  EXPECT_LT(seconds_since(t0), 2.0);
  int interrupted = 0;
  for (const auto& ep : result.services.at("svc").endpoints) interrupted += ep.failure == "interrupted";
  EXPECT_GT(interrupted, 0);
}

TEST(Engine, InterruptedRunMeasuresNothingMoreButReturns) {
  RawTcpServer server(RawTcpServer::Behaviour::kHold);
  auto cat = one_service({tcp_endpoint("127.0.0.1", {server.port()})});
  std::atomic<bool> stop{true};
  auto opt = loopback_options();
  opt.interrupted = &stop;
  auto result = run(cat, {"svc"}, opt);
  EXPECT_TRUE(result.interrupted);
  EXPECT_TRUE(result.services.at("svc").tcp_connect.empty());
  ASSERT_EQ(result.services.at("svc").endpoints.size(), 1u);
  EXPECT_EQ(result.services.at("svc").endpoints[0].failure, "interrupted");
}

// A control URL on loopback: the reachability check connects to it.
std::string control_url(int port) { return "http://127.0.0.1:" + std::to_string(port) + "/"; }

TEST(Engine, AsksTheControlOnlyAboutFailingEndpoints) {
  RawTcpServer server(RawTcpServer::Behaviour::kHold);
  RawTcpServer control(RawTcpServer::Behaviour::kHold);
  ClosedPort closed;
  auto cat = one_service({tcp_endpoint("127.0.0.1", {server.port(), closed.port()})});
  std::mutex mu;
  std::vector<nlohmann::json> asked;
  auto opt = loopback_options();
  opt.control_url = control_url(control.port());
  opt.control = [&](const nlohmann::json& req, std::chrono::milliseconds) {
    std::lock_guard lock(mu);
    asked.push_back(req);
    return nlohmann::json{{"tcp_connect", nlohmann::json::object()}};
  };
  auto result = run(cat, {"svc"}, opt);
  ASSERT_EQ(asked.size(), 1u);
  EXPECT_EQ(asked[0]["tcp_connect"][0], "127.0.0.1:" + std::to_string(closed.port()));
  EXPECT_EQ(asked[0]["x_chain"], "tcp");  // the helper only connects
  ASSERT_TRUE(result.services.at("svc").control);
  const auto& control_keys = *result.services.at("svc").control;
  EXPECT_EQ(control_keys.url, opt.control_url);
  EXPECT_FALSE(control_keys.unreachable);
  EXPECT_TRUE(control_keys.answers.count("127.0.0.1:" + std::to_string(closed.port())));
}

TEST(Engine, AsksTheControlWhileRetryingNotAfterwards) {
  SaturatedListener blackhole;
  RawTcpServer control(RawTcpServer::Behaviour::kHold);
  auto cat = one_service({tcp_endpoint("127.0.0.1", {blackhole.port()})});
  auto opt = loopback_options();  // connect timeout 0.3 s: the run's chains end at ~0.6 s
  opt.control_url = control_url(control.port());
  const auto t0 = std::chrono::steady_clock::now();
  std::atomic<double> asked_at{-1};
  opt.control = [&](const nlohmann::json& req, std::chrono::milliseconds) {
    asked_at = seconds_since(t0);
    std::this_thread::sleep_for(400ms);  // the helper's own connect timeout
    const std::string addr = req["tcp_connect"][0];
    return nlohmann::json{{"tcp_connect", {{addr, {{"status", false}, {"failure", "generic_timeout_error"}}}}}};
  };
  auto result = run(cat, {"svc"}, opt);
  const double took = seconds_since(t0);
  EXPECT_GT(asked_at.load(), 0.25);  // after the first attempt failed...
  EXPECT_LT(asked_at.load(), 0.5);   // ...while the retry runs
  EXPECT_LT(took, 0.95);             // not 0.6 s of chains + 0.4 s of control
  ASSERT_TRUE(result.services.at("svc").control);
  const auto& answers = result.services.at("svc").control->answers;
  ASSERT_EQ(answers.size(), 1u);
  ASSERT_TRUE(answers.begin()->second.tcp_connect);
  ASSERT_EQ(answers.begin()->second.tcp_connect->size(), 1u);
  EXPECT_FALSE(answers.begin()->second.tcp_connect->begin()->second.status);
}

TEST(Engine, OneControlRequestForAVolleyOfBlackHoledAddresses) {
  std::vector<std::unique_ptr<SaturatedListener>> holes;
  std::vector<catalog::Endpoint> eps;
  for (int i = 0; i < 10; ++i) {
    holes.push_back(std::make_unique<SaturatedListener>());
    // Each address twice, under two features: still one question.
    eps.push_back(tcp_endpoint("127.0.0.1", {holes.back()->port()}));
    eps.push_back(tcp_endpoint("127.0.0.1", {holes.back()->port()}, "calls"));
  }
  RawTcpServer control(RawTcpServer::Behaviour::kHold);
  auto cat = one_service(eps);
  auto opt = loopback_options();
  opt.control_url = control_url(control.port());
  std::mutex mu;
  std::vector<nlohmann::json> asked;
  opt.control = [&](const nlohmann::json& req, std::chrono::milliseconds) {
    std::lock_guard lock(mu);
    asked.push_back(req);
    nlohmann::json tcp = nlohmann::json::object();
    for (const auto& a : req["tcp_connect"]) tcp[a.get<std::string>()] = {{"status", false}, {"failure", "generic_timeout_error"}};
    return nlohmann::json{{"tcp_connect", tcp}};
  };
  auto result = run(cat, {"svc"}, opt);
  ASSERT_EQ(asked.size(), 1u);
  EXPECT_EQ(asked[0]["tcp_connect"].size(), 10u);
  ASSERT_TRUE(result.services.at("svc").control);
  const auto& answers = result.services.at("svc").control->answers;
  EXPECT_EQ(answers.size(), 10u);
  for (const auto& [key, a] : answers) {  // each endpoint its own address
    ASSERT_TRUE(a.tcp_connect);
    EXPECT_EQ(a.tcp_connect->size(), 1u);
  }
}

TEST(Engine, UnreachableControlIsNoticedOnceAndCostsOneConnectTimeout) {
  std::vector<std::unique_ptr<SaturatedListener>> holes;
  std::vector<catalog::Endpoint> eps;
  for (int i = 0; i < 6; ++i) {
    holes.push_back(std::make_unique<SaturatedListener>());
    eps.push_back(tcp_endpoint("127.0.0.1", {holes.back()->port()}));
  }
  SaturatedListener control;  // the control itself black-holed
  auto cat = one_service(eps);
  auto opt = loopback_options();
  opt.control_url = control_url(control.port());
  std::atomic<int> calls{0};
  opt.control = [&](const nlohmann::json&, std::chrono::milliseconds) {
    ++calls;
    return nlohmann::json{{"failure", "generic_timeout_error"}};
  };
  auto t0 = std::chrono::steady_clock::now();
  auto result = run(cat, {"svc"}, opt);
  EXPECT_LT(seconds_since(t0), 0.9);  // the chains' 0.6 s; the control's check overlapped them
  EXPECT_EQ(calls.load(), 0);
  ASSERT_TRUE(result.services.at("svc").control);
  const auto& x = *result.services.at("svc").control;
  EXPECT_EQ(x.unreachable, "generic_timeout_error");
  ASSERT_EQ(x.answers.size(), 6u);
  for (const auto& [key, a] : x.answers) EXPECT_EQ(a.failure, "control_unreachable: generic_timeout_error");
}

TEST(Engine, HoldOnLookupsOfEveryNameRunAtOnce) {
  net::testing::FakeDnsReply reply;
  reply.ipv4 = {"127.0.0.1"};
  net::testing::FakeDnsServer resolver({reply});
  ClosedPort closed;
  std::vector<catalog::Endpoint> eps;
  for (int i = 1; i <= 24; ++i) eps.push_back(tcp_endpoint("n" + std::to_string(i) + ".lab.test", {closed.port()}));
  auto cat = one_service(eps);
  auto opt = loopback_options();
  opt.system_lookup = StandInLookup{};
  opt.udp_resolver = resolver.address();
  opt.dns_hold = 400ms;
  auto t0 = std::chrono::steady_clock::now();
  auto result = run(cat, {"svc"}, opt);
  // One 400 ms window for all 24 names, not 24 / 16 waves of it.
  EXPECT_LT(seconds_since(t0), 0.75);
  EXPECT_EQ(resolver.queries_received(), 24);
  int udp = 0;
  for (const auto& q : result.services.at("svc").queries) udp += q.engine == "udp" && !q.failure;
  EXPECT_EQ(udp, 24);
}

// The pool runs everything submitted, never more than its limit at once,
// and work submitted after a wait() still runs (one pool serves a run's
// batches of chains).
TEST(WorkPool, RunsEverythingWithinItsLimit) {
  std::atomic<int> running{0}, most{0}, done{0};
  auto job = [&] {
    const int now = ++running;
    for (int seen = most.load(); now > seen && !most.compare_exchange_weak(seen, now);) {
    }
    std::this_thread::sleep_for(20ms);
    --running;
    ++done;
  };
  WorkPool pool(3);
  for (int i = 0; i < 12; ++i) pool.submit(job);
  pool.wait();
  EXPECT_EQ(done, 12);
  EXPECT_EQ(most, 3);
  pool.submit(job);
  pool.wait();
  EXPECT_EQ(done, 13);
}

// A name's chains start once its own lookup is judged, not once every
// name's is: a slow lookup (a lost packet on a lossy link) holds back only
// the chains that need it.
TEST(Engine, AChainStartsWhenItsOwnNameIsResolved) {
  RawTcpServer fast_server(RawTcpServer::Behaviour::kHold), slow_server(RawTcpServer::Behaviour::kHold);
  auto cat = one_service({tcp_endpoint("slow.lab.test", {slow_server.port()}), tcp_endpoint("fast.lab.test", {fast_server.port()})});
  auto opt = loopback_options();
  StandInLookup answer;
  opt.system_lookup = [answer](const std::string& name, std::chrono::milliseconds timeout, const net::StepContext& ctx) {
    if (name == "slow.lab.test") std::this_thread::sleep_for(700ms);
    return answer(name, timeout, ctx);
  };
  auto result = run(cat, {"svc"}, opt);
  const auto& obs = result.services.at("svc");
  ASSERT_EQ(obs.tcp_connect.size(), 2u);
  for (const auto& c : obs.tcp_connect) {
    EXPECT_FALSE(c.failure.has_value());
    if (c.port == fast_server.port()) EXPECT_LT(c.t0, 0.3) << "the fast name's chain waited for the slow lookup";
    else EXPECT_GE(c.t0, 0.69);
  }
}

TEST(Engine, BogonAnswersAreNeverConnectedTo) {
  auto cat = one_service({tcp_endpoint("svc.lab.test", {443})});
  EngineOptions opt;  // reject_bogons on, as in real runs
  opt.system_lookup = StandInLookup{};  // answers 127.0.0.1
  opt.udp_resolver = "";
  opt.connect_timeout = 300ms;
  auto result = run(cat, {"svc"}, opt);
  const auto& obs = result.services.at("svc");
  EXPECT_TRUE(obs.tcp_connect.empty());
  ASSERT_EQ(obs.queries.size(), 1u);
  EXPECT_EQ(obs.queries[0].failure.value_or(""), "dns_bogon_error");
}

TEST(Engine, AnHttpsStepStoppedByDnsStillRecordsItsRequest) {
  catalog::Endpoint e = tcp_endpoint("web.lab.test", {443}, "web");
  e.chain = Chain::Https;
  e.url = "https://web.lab.test/";
  auto cat = one_service({e});
  cat.services[0].features = {{"web", "", "all"}};
  EngineOptions opt;  // reject_bogons on: 127.0.0.1 is refused as a DNS answer
  opt.system_lookup = StandInLookup{};
  opt.udp_resolver = "";
  opt.connect_timeout = 300ms;
  auto result = run(cat, {"svc"}, opt);
  const auto& obs = result.services.at("svc");
  ASSERT_EQ(obs.requests.size(), 1u);
  EXPECT_EQ(obs.requests[0].failure.value_or(""), "dns_bogon_error");
  EXPECT_EQ(obs.requests[0].url, "https://web.lab.test/");
  EXPECT_EQ(obs.requests[0].transaction_id, obs.queries[0].transaction_id);
}

// An endpoint reached by address (Telegram's data centres): no system
// lookup, no hold-on query on the wire, no DNS observation or transaction in
// its plan; the chain starts at TCP. A name beside it is still looked up.
TEST(Engine, AnAddressLiteralIsNeverLookedUp) {
  net::testing::FakeDnsReply reply;
  reply.ipv4 = {"127.0.0.1"};
  net::testing::FakeDnsServer resolver({reply});
  RawTcpServer server(RawTcpServer::Behaviour::kHold);
  auto cat = one_service({tcp_endpoint("127.0.0.1", {server.port()}), tcp_endpoint("named.lab.test", {server.port()})});
  auto opt = loopback_options();
  StandInLookup lookup;
  opt.system_lookup = lookup;
  opt.udp_resolver = resolver.address();
  opt.dns_hold = 100ms;
  auto result = run(cat, {"svc"}, opt);
  const auto& obs = result.services.at("svc");
  EXPECT_EQ(*lookup.calls, 1);                  // the name only
  EXPECT_EQ(resolver.queries_received(), 1);     // likewise on the wire
  for (const auto& q : obs.queries) EXPECT_EQ(q.hostname, "named.lab.test");
  ASSERT_EQ(obs.endpoints.size(), 2u);
  const auto& literal = obs.endpoints[0].host == "127.0.0.1" ? obs.endpoints[0] : obs.endpoints[1];
  EXPECT_EQ(literal.dns_transaction_id, -1);
  EXPECT_EQ(literal.dns_udp_transaction_id, -1);
  EXPECT_EQ(literal.ip.value_or(""), "127.0.0.1");
  ASSERT_TRUE(literal.transaction_id.has_value());
  ASSERT_EQ(obs.tcp_connect.size(), 1u);  // one chain, shared by both
  EXPECT_EQ(obs.tcp_connect[0].ip, "127.0.0.1");
  EXPECT_FALSE(obs.tcp_connect[0].failure.has_value());
}

// The catalog refuses bogon literals, so the engine connects to a literal
// even with the DNS answers' bogon check on: it is not an answer.
TEST(Engine, AnAddressLiteralIsNotJudgedAsADnsAnswer) {
  RawTcpServer server(RawTcpServer::Behaviour::kHold);
  auto cat = one_service({tcp_endpoint("127.0.0.1", {server.port()})});
  EngineOptions opt;  // reject_bogons on, as in real runs
  opt.udp_resolver = "";
  opt.connect_timeout = 300ms;
  auto result = run(cat, {"svc"}, opt);
  const auto& obs = result.services.at("svc");
  EXPECT_TRUE(obs.queries.empty());
  ASSERT_EQ(obs.tcp_connect.size(), 1u);
  EXPECT_FALSE(obs.tcp_connect[0].failure.has_value());
}

// Where the host can reach IPv6, each name's first AAAA address is measured
// beside its A ones, as a chain of its own, and the plan names each family.
TEST(Engine, MeasuresTheFirstAaaaAddressWhenIpv6IsUsable) {
  RawTcpServer v6(RawTcpServer::Behaviour::kHold, /*ipv6=*/true);
  auto cat = one_service({tcp_endpoint("dual.lab.test", {v6.port()})});
  auto opt = loopback_options();
  StandInLookup lookup;
  lookup.ipv6 = {"::1", "::2"};  // only the first is measured (max_ipv6_per_host 1)
  opt.system_lookup = lookup;
  auto asked = std::make_shared<std::atomic<int>>(0);
  opt.ipv6_connectivity = [asked](const std::string& destination) {
    ++*asked;
    EXPECT_EQ(destination, "::1");
    return net::Ipv6Connectivity{true, ""};
  };
  auto result = run(cat, {"svc"}, opt);
  const auto& obs = result.services.at("svc");
  ASSERT_EQ(obs.endpoints.size(), 2u);
  EXPECT_EQ(obs.endpoints[0].ip, "127.0.0.1");
  EXPECT_EQ(obs.endpoints[0].family, "ipv4");
  EXPECT_EQ(obs.endpoints[1].ip, "::1");
  EXPECT_EQ(obs.endpoints[1].family, "ipv6");
  EXPECT_NE(obs.endpoints[0].transaction_id, obs.endpoints[1].transaction_id);
  ASSERT_EQ(obs.tcp_connect.size(), 2u);
  EXPECT_FALSE(obs.tcp_connect[1].failure.has_value()) << *obs.tcp_connect[1].failure;
  EXPECT_EQ(*asked, 1);
  EXPECT_EQ(obs.ipv6.usable, std::optional<bool>(true));
  EXPECT_EQ(obs.ipv6.reason, "");
  EXPECT_EQ(obs.ipv6.addresses, 1);
}

// Without IPv6 connectivity no AAAA address is connected to (no
// network_unreachable failures); the decision is made once for the run and
// every service says why.
TEST(Engine, NoIpv6AddressIsConnectedToWithoutConnectivity) {
  ClosedPort closed;
  auto cat = one_service({tcp_endpoint("a.lab.test", {closed.port()}), tcp_endpoint("b.lab.test", {closed.port()})});
  auto opt = loopback_options();
  StandInLookup lookup;
  lookup.ipv6 = {"::1"};
  opt.system_lookup = lookup;
  auto asked = std::make_shared<std::atomic<int>>(0);
  opt.ipv6_connectivity = [asked](const std::string&) {
    ++*asked;
    return net::Ipv6Connectivity{false, net::kIpv6NoRoute};
  };
  auto result = run(cat, {"svc"}, opt);
  const auto& obs = result.services.at("svc");
  for (const auto& e : obs.endpoints) EXPECT_EQ(e.family, "ipv4");
  for (const auto& t : obs.tcp_connect) EXPECT_EQ(t.ip, "127.0.0.1");
  EXPECT_EQ(*asked, 1);
  EXPECT_EQ(obs.ipv6.usable, std::optional<bool>(false));
  EXPECT_EQ(obs.ipv6.reason, "no_ipv6_route");
  EXPECT_EQ(obs.ipv6.addresses, 0);
  // No AAAA answer at all: nothing was decided, and it says so.
  opt.system_lookup = StandInLookup{};
  auto v4only = run(cat, {"svc"}, opt);
  EXPECT_FALSE(v4only.services.at("svc").ipv6.usable.has_value());
  EXPECT_EQ(v4only.services.at("svc").ipv6.reason, "no_aaaa_answer");
  EXPECT_EQ(*asked, 1);
}

}  // namespace
}  // namespace vantage::engine
