// Specification of the capture session: the BPF filter (checked against
// crafted packets with libpcap's own filter engine), analysis of a saved
// pcap, failure to open, and — as root — a real capture on loopback with a
// real stack's RST (must not be flagged) and a DNS server answering one query
// twice with different IP TTLs (must be flagged).
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pcap/pcap.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <thread>

#include <gtest/gtest.h>

#include "probe/capture/capture_session.h"
#include "probe/capture/tests/packet_builder.h"

namespace vantage::capture {
namespace {

namespace tb = testing;
using nlohmann::json;

bool filter_matches(const std::string& filter, const std::string& ip_packet) {
  pcap_t* dead = pcap_open_dead(DLT_RAW, 65535);
  struct bpf_program program;
  EXPECT_EQ(pcap_compile(dead, &program, filter.c_str(), 1, PCAP_NETMASK_UNKNOWN), 0) << pcap_geterr(dead) << "\n" << filter;
  struct pcap_pkthdr h {};
  h.caplen = h.len = static_cast<bpf_u_int32>(ip_packet.size());
  const bool match = pcap_offline_filter(&program, &h, reinterpret_cast<const u_char*>(ip_packet.data())) != 0;
  pcap_freecode(&program);
  pcap_close(dead);
  return match;
}

TEST(CaptureFilter, MatchesOnlyRegisteredFlows) {
  const auto filter = build_capture_filter({"198.18.0.53:53", "[2001:db8::53]:53"},
                                           {"198.18.1.10:443", "198.18.1.10:5222", "[2001:db8::443]:443"});
  EXPECT_EQ(build_capture_filter({}, {}), "");
  // Our flows, both directions.
  EXPECT_TRUE(filter_matches(filter, tb::ipv4("198.18.0.2", "198.18.1.10", 6, tb::tcp(40000, 443, 1, 0, 2))));
  EXPECT_TRUE(filter_matches(filter, tb::ipv4("198.18.1.10", "198.18.0.2", 6, tb::tcp(5222, 40000, 1, 0, 0x12))));
  EXPECT_TRUE(filter_matches(filter, tb::ipv4("198.18.0.53", "198.18.0.2", 17, tb::udp(53, 4000, "x"))));
  EXPECT_TRUE(filter_matches(filter, tb::ipv6("2001:db8::2", "2001:db8::443", 6, tb::tcp(40000, 443, 1, 0, 2))));
  EXPECT_TRUE(filter_matches(filter, tb::ipv6("2001:db8::53", "2001:db8::2", 17, tb::udp(53, 4000, "x"))));
  // Not ours: other port on a target, other host, TCP to the resolver, other traffic.
  EXPECT_FALSE(filter_matches(filter, tb::ipv4("198.18.0.2", "198.18.1.10", 6, tb::tcp(40000, 80, 1, 0, 2))));
  EXPECT_FALSE(filter_matches(filter, tb::ipv4("198.18.0.2", "198.18.7.7", 6, tb::tcp(40000, 443, 1, 0, 2))));
  EXPECT_FALSE(filter_matches(filter, tb::ipv4("198.18.0.2", "198.18.0.53", 6, tb::tcp(40000, 53, 1, 0, 2))));
  EXPECT_FALSE(filter_matches(filter, tb::ipv4("198.18.0.2", "198.18.1.10", 17, tb::udp(5000, 443, "x"))));
  EXPECT_FALSE(filter_matches(filter, tb::ipv6("2001:db8::2", "2001:db8::444", 6, tb::tcp(40000, 443, 1, 0, 2))));
  // ICMP errors: only those quoting a packet sent to one of our flows.
  const auto ours = tb::ipv4("198.18.0.2", "198.18.1.10", 6, tb::tcp(40000, 443, 1, 0, 2)).substr(0, 28);
  const auto other = tb::ipv4("198.18.0.2", "198.18.7.7", 6, tb::tcp(40000, 443, 1, 0, 2)).substr(0, 28);
  EXPECT_TRUE(filter_matches(filter, tb::ipv4("198.18.9.1", "198.18.0.2", 1, tb::icmp(3, 13, ours))));
  EXPECT_FALSE(filter_matches(filter, tb::ipv4("198.18.9.1", "198.18.0.2", 1, tb::icmp(3, 13, other))));
  EXPECT_FALSE(filter_matches(filter, tb::ipv4("198.18.9.1", "198.18.0.2", 1, tb::icmp(8, 0, ours))));
  const auto ours6 = tb::ipv6("2001:db8::2", "2001:db8::443", 6, tb::tcp(40000, 443, 1, 0, 2));
  const auto other6 = tb::ipv6("2001:db8::2", "2001:db8::444", 6, tb::tcp(40000, 443, 1, 0, 2));
  EXPECT_TRUE(filter_matches(filter, tb::ipv6("2001:db8::1", "2001:db8::2", 58, tb::icmp(1, 1, ours6))));
  EXPECT_FALSE(filter_matches(filter, tb::ipv6("2001:db8::1", "2001:db8::2", 58, tb::icmp(1, 1, other6))));
}

// Hosts that share a clause because they have the same ports never lend
// each other theirs: a port of one target is not captured on another.
TEST(CaptureFilter, HostsWithDifferentPortsKeepTheirOwn) {
  const auto filter = build_capture_filter({}, {"198.18.1.10:443", "198.18.1.11:443", "198.18.1.12:5222",
                                                "198.18.1.13:443", "198.18.1.13:5222"});
  EXPECT_TRUE(filter_matches(filter, tb::ipv4("198.18.0.2", "198.18.1.10", 6, tb::tcp(40000, 443, 1, 0, 2))));
  EXPECT_TRUE(filter_matches(filter, tb::ipv4("198.18.0.2", "198.18.1.11", 6, tb::tcp(40000, 443, 1, 0, 2))));
  EXPECT_TRUE(filter_matches(filter, tb::ipv4("198.18.0.2", "198.18.1.12", 6, tb::tcp(40000, 5222, 1, 0, 2))));
  EXPECT_TRUE(filter_matches(filter, tb::ipv4("198.18.0.2", "198.18.1.13", 6, tb::tcp(40000, 5222, 1, 0, 2))));
  EXPECT_FALSE(filter_matches(filter, tb::ipv4("198.18.0.2", "198.18.1.10", 6, tb::tcp(40000, 5222, 1, 0, 2))));
  EXPECT_FALSE(filter_matches(filter, tb::ipv4("198.18.0.2", "198.18.1.12", 6, tb::tcp(40000, 443, 1, 0, 2))));
}

// The filter of a large run stays small: one clause per set of ports, not
// per host (libpcap's optimiser needs memory quadratic in the filter). For
// these 80 hosts (40 in each family, three sets of ports) one clause per
// host compiled to 1988 instructions with an ~18 MB peak of memory; grouped,
// 1083 with ~1.2 MB.
TEST(CaptureFilter, ALargeRunsFilterStaysSmall) {
  std::vector<std::string> targets;
  for (int i = 1; i <= 40; ++i) {
    const std::vector<int> ports = i % 3 == 0 ? std::vector<int>{443} : i % 3 == 1 ? std::vector<int>{443, 5222}
                                                                                    : std::vector<int>{80, 443, 8080};
    for (int port : ports) {
      targets.push_back("198.18.1." + std::to_string(i) + ":" + std::to_string(port));
      targets.push_back("[2001:2:0:1::" + std::to_string(i) + "]:" + std::to_string(port));
    }
  }
  const auto filter = build_capture_filter({"198.18.0.53:53"}, targets);
  pcap_t* dead = pcap_open_dead(DLT_RAW, 65535);
  struct bpf_program program;
  ASSERT_EQ(pcap_compile(dead, &program, filter.c_str(), 1, PCAP_NETMASK_UNKNOWN), 0) << pcap_geterr(dead);
  EXPECT_LT(program.bf_len, 1300u) << filter;
  pcap_freecode(&program);
  pcap_close(dead);
  EXPECT_TRUE(filter_matches(filter, tb::ipv4("198.18.0.2", "198.18.1.7", 6, tb::tcp(40000, 5222, 1, 0, 2))));
  EXPECT_FALSE(filter_matches(filter, tb::ipv4("198.18.0.2", "198.18.1.9", 6, tb::tcp(40000, 5222, 1, 0, 2))));
}

std::filesystem::path temp_path(const std::string& name) {
  return std::filesystem::temp_directory_path() / ("vantage_capture_" + std::to_string(getpid()) + "_" + name);
}

TEST(AnalyzePcapFile, ReadsASavedCapture) {
  const auto path = temp_path("saved.pcap");
  pcap_t* dead = pcap_open_dead(DLT_EN10MB, 65535);
  pcap_dumper_t* dumper = pcap_dump_open(dead, path.c_str());
  ASSERT_NE(dumper, nullptr);
  tb::TcpConversation c;
  auto write = [&](double t, const std::string& ip) {
    const auto frame = tb::ethernet(ip);
    struct pcap_pkthdr h {};
    h.ts.tv_sec = 1700000000 + static_cast<long>(t);
    h.ts.tv_usec = static_cast<long>((t - static_cast<long>(t)) * 1e6);
    h.caplen = h.len = static_cast<bpf_u_int32>(frame.size());
    pcap_dump(reinterpret_cast<u_char*>(dumper), &h, reinterpret_cast<const u_char*>(frame.data()));
  };
  write(0.0, c.syn());
  write(1.0, c.syn());
  write(3.0, c.syn());
  pcap_dump_close(dumper);
  pcap_close(dead);

  auto out = analyze_pcap_file(path.string());
  std::filesystem::remove(path);
  ASSERT_EQ(out["enabled"], true) << out.dump();
  EXPECT_EQ(out["link_type"], "EN10MB");
  EXPECT_EQ(out["packets"], 3);
  ASSERT_EQ(out["anomalies"].size(), 1u) << out.dump();
  EXPECT_EQ(out["anomalies"][0]["type"], "syn_blackhole");
  EXPECT_EQ(out["anomalies"][0]["t"], 0.0);
  EXPECT_EQ(out["anomalies"][0]["endpoint"], "198.18.1.10:443");

  auto missing = analyze_pcap_file(temp_path("missing.pcap").string());
  EXPECT_EQ(missing["enabled"], false);
  EXPECT_TRUE(missing.contains("reason"));
}

TEST(CaptureSession, NoSuchInterfaceGivesAReason) {
  std::string reason;
  CaptureOptions options;
  options.interface = "vantage-nosuch0";
  auto session = CaptureSession::open(options, reason);
  EXPECT_EQ(session, nullptr);
  EXPECT_TRUE(reason.rfind("no_such_device", 0) == 0 || reason.rfind("permission_denied", 0) == 0) << reason;
  auto off = capture_disabled_json(reason);
  EXPECT_EQ(off["enabled"], false);
  EXPECT_EQ(off["reason"], reason);
}

// Loopback servers for the live test.
int bound_socket(int type, uint16_t& port) {
  const int fd = socket(AF_INET, type, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0) return -1;
  socklen_t len = sizeof(a);
  getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  port = ntohs(a.sin_port);
  return fd;
}

int connect_to(uint16_t port) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(port);
  timeval tv{5, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  if (connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

TEST(CaptureSession, LiveLoopbackCapture) {
  if (geteuid() != 0) GTEST_SKIP() << "capture needs root (CAP_NET_RAW)";
  const auto pcap_path = temp_path("live.pcap");
  CaptureOptions options;
  options.interface = "lo";
  options.pcap_file = pcap_path.string();
  std::string reason;
  auto session = CaptureSession::open(options, reason);
  ASSERT_NE(session, nullptr) << reason;

  uint16_t tcp_port = 0, udp_port = 0, other_port = 0;
  const int listener = bound_socket(SOCK_STREAM, tcp_port);
  const int other_listener = bound_socket(SOCK_STREAM, other_port);
  const int dns = bound_socket(SOCK_DGRAM, udp_port);
  ASSERT_GE(listener, 0);
  ASSERT_GE(dns, 0);
  ASSERT_EQ(listen(listener, 4), 0);
  ASSERT_EQ(listen(other_listener, 4), 0);
  const std::string target = "127.0.0.1:" + std::to_string(tcp_port);
  const std::string resolver = "127.0.0.1:" + std::to_string(udp_port);
  session->set_targets({resolver}, {target});
  session->map_endpoint(target, "test:reset");
  session->map_qname("Twice.Example", "test:dns");
  EXPECT_EQ(session->last_error(), "");

  // TCP: the server reads the request, then aborts (SO_LINGER 0): the RST
  // comes from the real stack and must not be called injected.
  std::thread server([&] {
    const int conn = accept(listener, nullptr, nullptr);
    char buf[256];
    (void)!read(conn, buf, sizeof(buf));
    linger l{1, 0};
    setsockopt(conn, SOL_SOCKET, SO_LINGER, &l, sizeof(l));
    close(conn);
  });
  const int client = connect_to(tcp_port);
  ASSERT_GE(client, 0);
  const std::string request = "GET / HTTP/1.1\r\nHost: reset.test\r\n\r\n";
  ASSERT_EQ(write(client, request.data(), request.size()), static_cast<ssize_t>(request.size()));
  char buf[64];
  errno = 0;
  const ssize_t got = read(client, buf, sizeof(buf));
  EXPECT_EQ(got, -1);
  EXPECT_EQ(errno, ECONNRESET);
  close(client);
  server.join();

  // Traffic that is not ours: must not be read.
  std::thread other_server([&] {
    const int conn = accept(other_listener, nullptr, nullptr);
    (void)!write(conn, "private", 7);
    close(conn);
  });
  const int other_client = connect_to(other_port);
  (void)!read(other_client, buf, sizeof(buf));
  close(other_client);
  other_server.join();

  // DNS: one query, two responses with different IP TTLs and answers.
  const int resolver_client = socket(AF_INET, SOCK_DGRAM, 0);
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  to.sin_port = htons(udp_port);
  const auto q = tb::dns_query(0x4242, "twice.example");
  ASSERT_EQ(sendto(resolver_client, q.data(), q.size(), 0, reinterpret_cast<sockaddr*>(&to), sizeof(to)),
            static_cast<ssize_t>(q.size()));
  sockaddr_in from{};
  socklen_t from_len = sizeof(from);
  char qbuf[512];
  ASSERT_GT(recvfrom(dns, qbuf, sizeof(qbuf), 0, reinterpret_cast<sockaddr*>(&from), &from_len), 0);
  for (auto [ttl, ip] : {std::pair{33, "198.18.66.6"}, std::pair{99, "198.18.1.10"}}) {
    setsockopt(dns, IPPROTO_IP, IP_TTL, &ttl, sizeof(ttl));
    const auto r = tb::dns_response(0x4242, "twice.example", {ip});
    sendto(dns, r.data(), r.size(), 0, reinterpret_cast<sockaddr*>(&from), from_len);
  }
  for (int i = 0; i < 2; ++i) {
    timeval tv{2, 0};
    setsockopt(resolver_client, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    EXPECT_GT(recv(resolver_client, qbuf, sizeof(qbuf), 0), 0);
  }
  close(resolver_client);

  auto out = session->finish(0.0);
  close(listener);
  close(other_listener);
  close(dns);
  SCOPED_TRACE(out.dump(1));
  if (std::getenv("VANTAGE_CAPTURE_DUMP")) std::printf("%s\n", out.dump(1).c_str());
  EXPECT_EQ(out["enabled"], true);
  EXPECT_EQ(out["interface"], "lo");
  EXPECT_EQ(out["ignored"], 0);
  EXPECT_GE(out["packets"].get<int>(), 8);  // handshake, request, ack, RST, query, 2 responses
  EXPECT_EQ(out.dump().find(":" + std::to_string(other_port)), std::string::npos);
  EXPECT_EQ(out.dump().find("private"), std::string::npos);

  int multiple = 0;
  for (const auto& a : out["anomalies"]) {
    EXPECT_NE(a["type"], "tcp_rst_injected");
    EXPECT_NE(a["type"], "tcp_data_after_rst");
    EXPECT_GE(a["t"].get<double>(), 0.0);
    EXPECT_LT(a["t"].get<double>(), 30.0);
    if (a["type"] == "dns_multiple_answers") {
      ++multiple;
      EXPECT_EQ(a["endpoint"], "test:dns");
      EXPECT_EQ(a["evidence"]["ip_ttls"], json({33, 99}));
      EXPECT_EQ(a["evidence"]["answers"], json({{"A 198.18.66.6"}, {"A 198.18.1.10"}}));
    }
  }
  EXPECT_EQ(multiple, 1);
  ASSERT_EQ(out["flows"].size(), 1u);
  EXPECT_EQ(out["flows"][0]["endpoint"], "test:reset");
  EXPECT_EQ(out["flows"][0]["address"], target);

  // The raw pcap: mode 0600, and the same evidence when analysed again.
  struct stat st {};
  ASSERT_EQ(stat(pcap_path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  AnalysisOptions again;
  again.registry.resolvers = {resolver};
  again.registry.targets = {target};
  auto replay = analyze_pcap_file(pcap_path.string(), again);
  std::filesystem::remove(pcap_path);
  EXPECT_EQ(replay["packets"], out["packets"]);
  EXPECT_EQ(replay["anomalies"].size(), out["anomalies"].size()) << replay.dump();
}

}  // namespace
}  // namespace vantage::capture
