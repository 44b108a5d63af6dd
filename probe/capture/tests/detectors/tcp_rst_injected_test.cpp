// The tcp_rst_injected detector alone, on crafted packets: what it reports, with which evidence, and
// the near misses it must not report.
#include <gtest/gtest.h>

#include "probe/capture/detectors/tcp_rst_injected.h"
#include "probe/capture/tests/detector_scenario.h"

namespace vantage::capture {
namespace {

namespace tb = testing;
using nlohmann::json;
using tb::Scenario;

TEST(TcpRstInjectedDetector, TtlOffByMoreThanTheTolerance) {
  Scenario run;
  tb::TcpConversation c;
  tb::handshake(run, c);
  run.at(0.051, c.client_data("GET / HTTP/1.1\r\nHost: a\r\n\r\n"));
  run.at(0.140, c.server_flags(tcpflag::kRst, 0, 54));  // SYN-ACK TTL 52, slower than RTT/2
  auto r = run.only<TcpRstInjected>();
  ASSERT_EQ(r.anomalies.size(), 1u) << tb::dump(r);
  const auto& e = r.anomalies[0].evidence;
  EXPECT_EQ(e["reasons"], json({"ip_ttl"}));
  EXPECT_EQ(e["flags"], "RST");
  EXPECT_EQ(e["ttl_reference"], "synack");
  EXPECT_EQ(e["after"], "request");
  EXPECT_EQ(e["count"], 1);
  EXPECT_EQ(e["client_port"], 40000);
}

TEST(TcpRstInjectedDetector, TtlWithinTheToleranceIsTheServer) {
  Scenario run;
  tb::TcpConversation c;
  tb::handshake(run, c);
  run.at(0.051, c.client_data("GET / HTTP/1.1\r\nHost: a\r\n\r\n"));
  run.at(0.140, c.server_flags(tcpflag::kRst, 0, 53));
  EXPECT_TRUE(run.only<TcpRstInjected>().anomalies.empty());
}

TEST(TcpRstInjectedDetector, AForgedFinCountsToo) {
  Scenario run;
  tb::TcpConversation c;
  tb::handshake(run, c);
  run.at(0.051, c.client_data(tb::client_hello("blocked.example")));
  run.at(0.052, c.server_flags(tcpflag::kFin | tcpflag::kAck, 0));  // too fast, TTL right
  run.at(0.053, c.server_flags(tcpflag::kRst, 0, 90));
  auto r = run.only<TcpRstInjected>();
  ASSERT_EQ(r.anomalies.size(), 1u) << tb::dump(r);
  const auto& e = r.anomalies[0].evidence;
  EXPECT_EQ(e["flags"], "FIN");
  EXPECT_EQ(e["reasons"], json({"too_fast"}));
  EXPECT_EQ(e["count"], 2);
  EXPECT_EQ(e["packets"][1]["flags"], "RST");
  EXPECT_NEAR(r.anomalies[0].t, 0.052, 1e-9);
}

TEST(TcpRstInjectedDetector, ZeroIpIdFromAStackThatNumbersItsPackets) {
  Scenario run;
  tb::TcpConversation c;
  run.at(0.0, c.syn());
  run.at(0.050, c.synack(7000));
  run.at(0.0502, c.ack());
  run.at(0.051, c.client_data("GET / HTTP/1.1\r\nHost: a\r\n\r\n"));
  run.at(0.101, c.server_data("HTTP/1.1 200 OK\r\n", 7001));
  run.at(0.150, c.server_flags(tcpflag::kRst, 0));
  auto r = run.only<TcpRstInjected>();
  ASSERT_EQ(r.anomalies.size(), 1u) << tb::dump(r);
  EXPECT_EQ(r.anomalies[0].evidence["reasons"], json({"ip_id"}));
  EXPECT_EQ(r.anomalies[0].evidence["synack_ip_id"], 7000);
}

}  // namespace
}  // namespace vantage::capture
