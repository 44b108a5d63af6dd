// Specification of the detectors on crafted packet sequences: each anomaly
// with its evidence, and the clean flows (random loss, reordering, the
// server's own RST) that must not raise one.
#include <gtest/gtest.h>

#include <random>

#include "probe/capture/detectors.h"
#include "probe/capture/tests/detector_scenario.h"

namespace vantage::capture {
namespace {

namespace tb = testing;
using nlohmann::json;

using tb::answer;
using tb::dump;
using tb::handshake;
using tb::kResolver;
using tb::kServer;
using tb::of_type;
using tb::query;
using tb::Scenario;

TEST(Detectors, CleanTlsFlowHasNoAnomalies) {
  Scenario run;
  tb::TcpConversation c;
  handshake(run, c);
  run.at(0.051, c.client_data(tb::client_hello("chat.signal.org")));
  run.at(0.101, c.server_data(std::string(1200, 's'), 9000));
  run.at(0.102, c.server_data(std::string(1200, 's'), 9001));
  run.at(0.103, c.client_data(std::string(80, 'c')));
  run.at(0.160, c.server_data(std::string(300, 's'), 9002));
  run.at(0.200, c.client_flags(tcpflag::kFin | tcpflag::kAck));
  run.at(0.250, c.server_flags(tcpflag::kFin | tcpflag::kAck, 9003));
  auto r = run.result();
  EXPECT_TRUE(r.anomalies.empty()) << dump(r);
  ASSERT_EQ(r.flows.size(), 1u);
  const auto& f = r.flows[0];
  EXPECT_EQ(f["address"], kServer);
  EXPECT_EQ(f["endpoint"], kServer);
  EXPECT_EQ(f["bytes_in"], 2700);
  EXPECT_EQ(f["retransmissions"], 0);
  EXPECT_EQ(f["syn_count"], 1);
  EXPECT_NEAR(f["handshake_rtt_ms"].get<double>(), 50.0, 0.01);
  EXPECT_EQ(f["sni"], "chat.signal.org");
  // 2700 bytes between the ClientHello (0.051) and the last data (0.160).
  EXPECT_NEAR(f["throughput_kbps"].get<double>(), 2700 * 8 / 1000.0 / 0.109, 0.5);
}

TEST(Detectors, SynRetransmittedOnceThenAnsweredIsNotABlackhole) {
  Scenario run;
  tb::TcpConversation c;
  run.at(0.0, c.syn());
  run.at(1.0, c.syn());
  run.at(1.05, c.synack(0));
  run.at(1.0502, c.ack());
  auto r = run.result();
  EXPECT_TRUE(r.anomalies.empty()) << dump(r);
  EXPECT_EQ(r.flows[0]["syn_count"], 2);
  EXPECT_NEAR(r.flows[0]["handshake_rtt_ms"].get<double>(), 50.0, 0.01);
}

TEST(Detectors, SynBlackhole) {
  Scenario run;
  tb::TcpConversation c;
  run.at(0.0, c.syn());
  run.at(1.0, c.syn());
  run.at(3.0, c.syn());
  auto r = run.result();
  auto found = of_type(r, "syn_blackhole");
  ASSERT_EQ(found.size(), 1u) << dump(r);
  EXPECT_EQ(found[0].endpoint, kServer);
  EXPECT_EQ(found[0].t, 0.0);
  EXPECT_EQ(found[0].evidence["syn_count"], 3);
  EXPECT_EQ(found[0].evidence["last_syn_t"], 3.0);
}

TEST(Detectors, OneUnansweredSynIsNotABlackhole) {
  Scenario run;
  tb::TcpConversation c;
  run.at(0.0, c.syn());
  auto r = run.result();
  EXPECT_TRUE(r.anomalies.empty()) << dump(r);
}

TEST(Detectors, ClientHelloBlackhole) {
  Scenario run;
  tb::TcpConversation c;
  handshake(run, c);
  const uint32_t seq = c.client_seq;
  const auto hello = tb::client_hello("web.whatsapp.com");
  run.at(0.051, c.client_data(hello));
  run.at(0.300, c.client_data_at(seq, hello));
  run.at(0.800, c.client_data_at(seq, hello));
  auto r = run.result();
  auto found = of_type(r, "client_hello_blackhole");
  ASSERT_EQ(found.size(), 1u) << dump(r);
  EXPECT_EQ(found[0].evidence["sends"], 3);
  EXPECT_EQ(found[0].evidence["sni"], "web.whatsapp.com");
  EXPECT_EQ(r.flows[0]["retransmissions_out"], 2);
}

TEST(Detectors, ClientHelloRetransmittedThenAnsweredIsClean) {
  Scenario run;
  tb::TcpConversation c;
  handshake(run, c);
  const uint32_t seq = c.client_seq;
  const auto hello = tb::client_hello("web.whatsapp.com");
  run.at(0.051, c.client_data(hello));
  run.at(0.300, c.client_data_at(seq, hello));
  run.at(0.350, c.server_data(std::string(900, 's'), 7));
  auto r = run.result();
  EXPECT_TRUE(r.anomalies.empty()) << dump(r);
}

TEST(Detectors, ForgedRstAfterClientHello) {
  Scenario run;
  tb::TcpConversation c;
  handshake(run, c);
  run.at(0.051, c.client_data(tb::client_hello("blocked.example")));
  run.at(0.053, c.server_flags(tcpflag::kRst, 31337, 118));
  auto r = run.result();
  auto found = of_type(r, "tcp_rst_injected");
  ASSERT_EQ(found.size(), 1u) << dump(r);
  const auto& e = found[0].evidence;
  EXPECT_EQ(e["rst_ttl"], 118);
  EXPECT_EQ(e["synack_ttl"], 52);
  EXPECT_EQ(e["rst_ip_id"], 31337);
  EXPECT_EQ(e["after"], "client_hello");
  EXPECT_NEAR(e["delay_ms"].get<double>(), 2.0, 0.01);
  EXPECT_EQ(e["reasons"], json({"ip_ttl", "too_fast"}));
  EXPECT_EQ(e["sni"], "blocked.example");
  EXPECT_NEAR(found[0].t, 0.053, 1e-9);
}

TEST(Detectors, ServersOwnRstAfterNormalCloseIsNotInjected) {
  Scenario run;
  tb::TcpConversation c;
  handshake(run, c);
  run.at(0.051, c.client_data("GET / HTTP/1.1\r\nHost: a\r\n\r\n"));
  run.at(0.101, c.server_data("HTTP/1.1 200 OK\r\n\r\nhi", 4000));
  run.at(0.102, c.client_flags(tcpflag::kFin | tcpflag::kAck));
  run.at(0.152, c.server_flags(tcpflag::kRst, 4001));
  // A RST straight after the request, with the server's TTL and IP-ID
  // sequence, slower than half the RTT: the server refusing, not a censor.
  tb::TcpConversation d;
  d.client_port = 40001;
  handshake(run, d, 1.0);
  run.at(1.051, d.client_data("GET / HTTP/1.1\r\nHost: a\r\n\r\n"));
  run.at(1.101, d.server_flags(tcpflag::kRst | tcpflag::kAck, 0));
  auto r = run.result();
  EXPECT_TRUE(r.anomalies.empty()) << dump(r);
}

TEST(Detectors, RstWithForeignIpIdIsInjected) {
  Scenario run;
  tb::TcpConversation c;
  handshake(run, c);
  run.at(0.051, c.client_data("GET / HTTP/1.1\r\nHost: a\r\n\r\n"));
  run.at(0.101, c.server_data("HTTP/1.1 200 OK\r\n", 20000));
  run.at(0.102, c.client_data("GET /next HTTP/1.1\r\nHost: a\r\n\r\n"));
  run.at(0.160, c.server_flags(tcpflag::kRst, 52000));  // TTL matches, IP-ID does not
  auto r = run.result();
  auto found = of_type(r, "tcp_rst_injected");
  ASSERT_EQ(found.size(), 1u) << dump(r);
  EXPECT_EQ(found[0].evidence["reasons"], json({"ip_id"}));
  EXPECT_EQ(found[0].evidence["after"], "request");
  EXPECT_EQ(found[0].evidence["server_last_ip_id"], 20000);
}

TEST(Detectors, DataAfterRst) {
  Scenario run;
  tb::TcpConversation c;
  handshake(run, c);
  run.at(0.051, c.client_data(tb::client_hello("blocked.example")));
  run.at(0.060, c.server_flags(tcpflag::kRst, 1, 30));  // forged, seq = next server byte
  run.at(0.101, c.server_data(std::string(1000, 's'), 9000));  // the real answer
  auto r = run.result();
  auto after = of_type(r, "tcp_data_after_rst");
  ASSERT_EQ(after.size(), 1u) << dump(r);
  EXPECT_EQ(after[0].evidence["rst_ttl"], 30);
  EXPECT_EQ(after[0].evidence["data_ttl"], 52);
  EXPECT_EQ(after[0].evidence["data_bytes"], 1000);
  EXPECT_EQ(of_type(r, "tcp_rst_injected").size(), 1u);
}

// rst_in counts every inbound RST, forged or not, and nothing else: the lab
// checks it against tshark's count for the same flow (client_port tells the
// flows to one server apart).
TEST(Detectors, FlowFiguresCountInboundRsts) {
  Scenario run;
  tb::TcpConversation c;
  handshake(run, c);
  run.at(0.051, c.client_data(tb::client_hello("blocked.example")));
  run.at(0.053, c.server_flags(tcpflag::kRst, 31337, 118));            // forged
  run.at(0.101, c.server_flags(tcpflag::kRst | tcpflag::kAck, 0));    // the server's own
  run.at(0.102, c.client_flags(tcpflag::kRst));                        // outbound: not counted
  tb::TcpConversation d;
  d.client_port = 40001;
  handshake(run, d, 1.0);
  run.at(1.051, d.client_data("GET / HTTP/1.1\r\nHost: a\r\n\r\n"));
  run.at(1.101, d.server_flags(tcpflag::kFin | tcpflag::kAck, 0));    // a FIN is not a RST
  auto r = run.result();
  ASSERT_EQ(r.flows.size(), 2u);
  EXPECT_EQ(r.flows[0]["client_port"], 40000);
  EXPECT_EQ(r.flows[0]["rst_in"], 2);
  EXPECT_EQ(r.flows[1]["client_port"], 40001);
  EXPECT_EQ(r.flows[1]["rst_in"], 0);
  auto found = of_type(r, "tcp_rst_injected");
  ASSERT_EQ(found.size(), 1u) << dump(r);
  EXPECT_EQ(found[0].evidence["client_port"], 40000);
  EXPECT_EQ(found[0].evidence["count"], 1);
}

TEST(Detectors, ReorderedDataBehindARealRstIsNotDataAfterRst) {
  Scenario run;
  tb::TcpConversation c;
  handshake(run, c);
  run.at(0.051, c.client_data("GET / HTTP/1.1\r\nHost: a\r\n\r\n"));
  const uint32_t data_seq = c.server_seq;
  c.server_seq += 500;
  run.at(0.110, c.server_flags(tcpflag::kRst, 4001));
  run.at(0.111, c.server_data_at(data_seq, std::string(500, 'd'), 4000));  // sent before the RST
  auto r = run.result();
  EXPECT_TRUE(of_type(r, "tcp_data_after_rst").empty()) << dump(r);
  EXPECT_TRUE(of_type(r, "tcp_rst_injected").empty()) << dump(r);
}

TEST(Detectors, RstToSynComparedWithOtherFlowsSynAck) {
  Scenario run;
  tb::TcpConversation good;
  handshake(run, good);
  tb::TcpConversation blocked;
  blocked.client_port = 40002;
  run.at(1.0, blocked.syn());
  run.at(1.001, blocked.server_flags(tcpflag::kRst | tcpflag::kAck, 0, 200));
  auto r = run.result();
  auto found = of_type(r, "tcp_rst_injected");
  ASSERT_EQ(found.size(), 1u) << dump(r);
  EXPECT_EQ(found[0].evidence["after"], "syn");
  EXPECT_EQ(found[0].evidence["ttl_reference"], "other_flows_synack");
  EXPECT_EQ(found[0].evidence["synack_ttl"], 52);
}

TEST(Detectors, IcmpAdministrativelyProhibited) {
  Scenario run;
  tb::TcpConversation c;
  const auto syn = c.syn();
  run.at(0.0, syn);
  run.at(0.02, tb::ipv4("198.18.9.1", "198.18.0.2", 1, tb::icmp(3, 13, syn.substr(0, 28)), 250));
  run.at(1.0, c.syn());
  auto r = run.result();
  auto found = of_type(r, "icmp_unreachable");
  ASSERT_EQ(found.size(), 1u) << dump(r);
  EXPECT_EQ(found[0].endpoint, kServer);
  EXPECT_EQ(found[0].evidence["code"], 13);
  EXPECT_EQ(found[0].evidence["admin_prohibited"], true);
  EXPECT_EQ(found[0].evidence["from"], "198.18.9.1");
  EXPECT_TRUE(of_type(r, "syn_blackhole").empty());
}

TEST(Detectors, IcmpFromAPrivateRouterIsMasked) {
  Scenario run;
  tb::TcpConversation c;
  const auto syn = c.syn();
  run.at(0.0, syn);
  run.at(0.02, tb::ipv4("192.168.1.1", "198.18.0.2", 1, tb::icmp(3, 1, syn.substr(0, 28)), 64));
  auto r = run.result();
  auto found = of_type(r, "icmp_unreachable");
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(found[0].evidence["from"], "[private]");
  EXPECT_EQ(found[0].evidence["admin_prohibited"], false);
  EXPECT_EQ(dump(r).find("192.168"), std::string::npos);
}

TEST(Detectors, UnregisteredFlowsAreIgnored) {
  Scenario run;
  tb::TcpConversation other;
  other.server = "198.18.7.7";
  run.at(0.0, other.syn());
  run.at(1.0, other.syn());
  run.at(2.0, other.syn());
  const auto syn = other.syn();
  run.at(2.1, tb::ipv4("198.18.9.1", "198.18.0.2", 1, tb::icmp(3, 13, syn.substr(0, 28))));
  run.at(2.2, tb::ipv4("198.18.0.99", "198.18.0.2", 17, tb::udp(53, 5000, tb::dns_response(1, "x.y", {"1.1.1.1"}))));
  auto r = run.result();
  EXPECT_TRUE(r.anomalies.empty()) << dump(r);
  EXPECT_TRUE(r.flows.empty());
  EXPECT_EQ(r.stats.ignored, 5u);
}

TEST(Detectors, InjectedFastHttpResponse) {
  Scenario run;
  tb::TcpConversation c;
  c.server_port = 80;
  run.registry.targets = {"198.18.1.10:80"};
  handshake(run, c);
  run.at(0.060, c.client_data("GET / HTTP/1.1\r\nHost: blocked.example\r\n\r\n"));
  run.at(0.062, c.server_data("HTTP/1.1 403 Forbidden\r\n\r\nblocked", 0, 61));
  auto r = run.result();
  auto found = of_type(r, "injected_fast_response");
  ASSERT_EQ(found.size(), 1u) << dump(r);
  EXPECT_EQ(found[0].evidence["response"], "http_response");
  EXPECT_EQ(found[0].evidence["status_code"], 403);
  EXPECT_NEAR(found[0].evidence["delay_ms"].get<double>(), 2.0, 0.01);
  EXPECT_NEAR(found[0].evidence["rtt_ms"].get<double>(), 50.0, 0.01);
}

TEST(Detectors, InjectedFastTlsAlertButNotASlowOne) {
  Scenario run;
  tb::TcpConversation c;
  handshake(run, c);
  run.at(0.060, c.client_data(tb::client_hello("blocked.example")));
  run.at(0.061, c.server_data(tb::tls_alert(2, 40), 0, 70));
  tb::TcpConversation d;
  d.client_port = 40005;
  handshake(run, d, 1.0);
  run.at(1.060, d.client_data(tb::client_hello("fine.example")));
  run.at(1.115, d.server_data(tb::tls_alert(2, 112), 5));  // after a full RTT: the server
  auto r = run.result();
  auto found = of_type(r, "injected_fast_response");
  ASSERT_EQ(found.size(), 1u) << dump(r);
  EXPECT_EQ(found[0].evidence["response"], "tls_alert");
  EXPECT_EQ(found[0].evidence["alert_description"], 40);
  EXPECT_EQ(found[0].evidence["sni"], "blocked.example");
}

TEST(Detectors, LossAndReorderingFigures) {
  Scenario run;
  tb::TcpConversation c;
  handshake(run, c);
  run.at(0.051, c.client_data("GET /big HTTP/1.1\r\n\r\n"));
  const std::string seg(1000, 'd');
  std::vector<uint32_t> seqs;
  for (int i = 0; i < 10; ++i) {
    seqs.push_back(c.server_seq);
    c.server_seq += 1000;
  }
  double t = 0.100;
  for (int i = 0; i < 10; ++i) {
    if (i == 3) continue;        // lost before our capture point
    if (i == 6) continue;        // delivered out of order below
    run.at(t, c.server_data_at(seqs[i], seg, static_cast<uint16_t>(100 + i)));
    if (i == 7) run.at(t + 0.0005, c.server_data_at(seqs[6], seg, 106));  // reordered by 0.5 ms
    t += 0.001;
  }
  run.at(0.400, c.server_data_at(seqs[3], seg, 103));  // retransmitted after an RTO
  run.at(0.401, c.server_data_at(seqs[9], seg, 110));  // spurious duplicate
  auto r = run.result();
  EXPECT_TRUE(r.anomalies.empty()) << dump(r);
  ASSERT_EQ(r.flows.size(), 1u);
  EXPECT_EQ(r.flows[0]["bytes_in"], 10000);
  EXPECT_EQ(r.flows[0]["retransmissions_in"], 2);
  EXPECT_EQ(r.flows[0]["retransmissions_out"], 0);
}

TEST(Detectors, CaptureDuplicatesAreDropped) {
  Scenario run;
  tb::TcpConversation c;
  handshake(run, c);
  run.at(0.051, c.client_data("GET / HTTP/1.1\r\n\r\n"));
  const auto data = c.server_data(std::string(500, 'x'), 77);
  run.at(0.101, data);
  run.at(0.1011, data);  // the "any" device saw it twice
  auto r = run.result();
  EXPECT_EQ(r.stats.duplicates, 1u);
  EXPECT_EQ(r.flows[0]["retransmissions"], 0);
}

TEST(Detectors, DnsInjectionRacesTheRealAnswer) {
  Scenario run;
  run.registry.qname_endpoints["web.whatsapp.com"] = {"whatsapp:web"};
  run.at(0.0, query(7, "web.whatsapp.com"));
  run.at(0.005, answer(7, "web.whatsapp.com", "198.18.66.6", 47, 5353, 1111));
  run.at(0.040, answer(7, "web.whatsapp.com", "198.18.1.10", 58, 5353, 2222));
  auto r = run.result();
  auto found = of_type(r, "dns_multiple_answers");
  ASSERT_EQ(found.size(), 1u) << dump(r);
  EXPECT_EQ(found[0].endpoint, "whatsapp:web");
  const auto& e = found[0].evidence;
  EXPECT_EQ(e["count"], 2);
  EXPECT_EQ(e["ip_ttls"], json({47, 58}));
  EXPECT_EQ(e["ip_ids"], json({1111, 2222}));
  EXPECT_EQ(e["answers"], json({{"A 198.18.66.6"}, {"A 198.18.1.10"}}));
  EXPECT_EQ(e["differ"], true);
  EXPECT_EQ(e["resolver"], kResolver);
  EXPECT_NEAR(e["delays_ms"][0].get<double>(), 5.0, 0.01);
  EXPECT_NEAR(found[0].t, 0.005, 1e-9);
}

TEST(Detectors, RetransmittedQueryWithTwoIdenticalAnswersIsClean) {
  Scenario run;
  run.at(0.0, query(8, "a.example"));
  run.at(1.0, query(8, "a.example"));
  run.at(1.01, answer(8, "a.example", "198.18.1.1", 58));
  run.at(1.02, answer(8, "a.example", "198.18.1.1", 58));
  auto r = run.result();
  EXPECT_TRUE(r.anomalies.empty()) << dump(r);
}

TEST(Detectors, DnsTtlMismatch) {
  Scenario run;
  const char* names[] = {"a.example", "b.example", "c.example", "d.example"};
  for (int i = 0; i < 4; ++i) {
    run.at(i, query(static_cast<uint16_t>(10 + i), names[i]));
    run.at(i + 0.02, answer(static_cast<uint16_t>(10 + i), names[i], "198.18.1.1", i == 3 ? 40 : 58));
  }
  auto r = run.result();
  auto found = of_type(r, "dns_ttl_mismatch");
  ASSERT_EQ(found.size(), 1u) << dump(r);
  EXPECT_EQ(found[0].endpoint, "d.example");
  EXPECT_EQ(found[0].evidence["usual_ip_ttl"], 58);
  EXPECT_EQ(found[0].evidence["ip_ttls"], json({40}));
}

TEST(Detectors, SmallTtlDriftIsNotAMismatch) {
  Scenario run;
  const char* names[] = {"a.example", "b.example", "c.example"};
  for (int i = 0; i < 3; ++i) {
    run.at(i, query(static_cast<uint16_t>(10 + i), names[i]));
    run.at(i + 0.02, answer(static_cast<uint16_t>(10 + i), names[i], "198.18.1.1", i == 2 ? 57 : 58));
  }
  auto r = run.result();
  EXPECT_TRUE(r.anomalies.empty()) << dump(r);
}

TEST(Detectors, AnswerFromAServerThatRunsNoDns) {
  Scenario run;
  const auto q = query(5, "signal.org");
  run.at(0.0, q);
  run.at(0.004, answer(5, "signal.org", "198.18.66.6", 90));
  run.at(0.030, tb::ipv4("198.18.0.53", "198.18.0.2", 1, tb::icmp(3, 3, q.substr(0, 28)), 58));
  auto r = run.result();
  auto found = of_type(r, "dns_answer_from_silent_server");
  ASSERT_EQ(found.size(), 1u) << dump(r);
  EXPECT_EQ(found[0].evidence["why"], "icmp_port_unreachable");
  EXPECT_EQ(found[0].evidence["answers"], json({{"A 198.18.66.6"}}));
  EXPECT_EQ(of_type(r, "icmp_unreachable").size(), 1u);
}

TEST(Detectors, EndpointNamesComeFromTheRegistry) {
  Scenario run;
  run.registry.address_endpoints[kServer] = {"signal:chat"};
  run.registry.address_endpoints["198.018.1.10:443"] = {"not-an-address"};
  run.registry.address_endpoints["[::ffff:198.18.1.10]:443"] = {"v4-mapped"};
  run.registry.address_endpoints["[198.18.1.10]:443"] = {"signal:cdsi"};
  tb::TcpConversation c;
  run.at(0.0, c.syn());
  run.at(1.0, c.syn());
  auto r = run.result();
  auto found = of_type(r, "syn_blackhole");
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(found[0].endpoint, "signal:chat");
  EXPECT_EQ(found[0].evidence["also_endpoints"], json({"signal:cdsi"}));
  EXPECT_EQ(r.flows[0]["endpoint"], "signal:chat");
}

TEST(Detectors, UnregisteredModeInfersDirections) {
  Scenario run;
  run.registry = FlowRegistry{};
  tb::TcpConversation c;
  c.server = "198.18.3.3";
  run.at(0.0, c.syn());
  run.at(1.0, c.syn());
  run.at(1.1, query(3, "x.example"));
  run.at(1.11, answer(3, "x.example", "198.18.1.1", 50));
  run.at(1.12, answer(3, "x.example", "198.18.1.2", 58));
  auto r = run.result();
  EXPECT_EQ(of_type(r, "syn_blackhole").size(), 1u) << dump(r);
  EXPECT_EQ(of_type(r, "dns_multiple_answers").size(), 1u) << dump(r);
}

TEST(Detectors, RandomBytesNeverCrash) {
  std::mt19937 rng(12345);
  CaptureAnalyzer tracker(FlowRegistry{}, DetectorOptions{});
  tb::TcpConversation c;
  std::vector<std::string> seeds = {c.syn(), c.synack(0), c.client_data(tb::client_hello("a.b")),
                                    c.server_flags(tcpflag::kRst, 3), query(1, "a.b"), answer(1, "a.b", "1.2.3.4", 9)};
  for (int i = 0; i < 20000; ++i) {
    std::string p = seeds[i % seeds.size()];
    const int flips = 1 + static_cast<int>(rng() % 4);
    for (int k = 0; k < flips; ++k) p[rng() % p.size()] = static_cast<char>(rng());
    if (rng() % 3 == 0) p.resize(rng() % (p.size() + 1));
    tracker.add_frame(link::kRaw, reinterpret_cast<const uint8_t*>(p.data()), p.size(), 1.0 + i * 0.001);
  }
  auto r = tracker.finish();
  EXPECT_EQ(r.stats.packets, 20000u);
  for (const auto& a : r.anomalies) EXPECT_FALSE(anomaly_to_json(a).dump().empty());
}

}  // namespace
}  // namespace vantage::capture
