// The client_hello_blackhole detector alone, on crafted packets: what it reports, with which evidence, and
// the near misses it must not report.
#include <gtest/gtest.h>

#include "probe/capture/detectors/client_hello_blackhole.h"
#include "probe/capture/tests/detector_scenario.h"

namespace vantage::capture {
namespace {

namespace tb = testing;
using nlohmann::json;
using tb::Scenario;

TEST(ClientHelloBlackholeDetector, ClientHelloSentTwiceAndNothingBack) {
  Scenario run;
  tb::TcpConversation c;
  tb::handshake(run, c);
  const uint32_t seq = c.client_seq;
  const auto hello = tb::client_hello("blocked.example");
  run.at(0.051, c.client_data(hello));
  run.at(0.400, c.client_data_at(seq, hello));
  auto r = run.only<ClientHelloBlackhole>();
  ASSERT_EQ(r.anomalies.size(), 1u) << tb::dump(r);
  const auto& e = r.anomalies[0].evidence;
  EXPECT_EQ(e["sends"], 2);
  EXPECT_EQ(e["sni"], "blocked.example");
  EXPECT_EQ(e["synack_ttl"], 52);
  EXPECT_NEAR(e["rtt_ms"].get<double>(), 50.0, 1e-6);
  EXPECT_NEAR(r.anomalies[0].t, 0.051, 1e-9);
}

TEST(ClientHelloBlackholeDetector, AnAckCoveringTheClientHelloIsAnAnswer) {
  Scenario run;
  tb::TcpConversation c;
  tb::handshake(run, c);
  const uint32_t seq = c.client_seq;
  const auto hello = tb::client_hello("slow.example");
  run.at(0.051, c.client_data(hello));
  run.at(0.400, c.client_data_at(seq, hello));
  run.at(0.450, c.server_flags(tcpflag::kAck, 3));  // acknowledges the ClientHello, no data yet
  EXPECT_TRUE(run.only<ClientHelloBlackhole>().anomalies.empty());
}

TEST(ClientHelloBlackholeDetector, SentOnceIsNotEnough) {
  Scenario run;
  tb::TcpConversation c;
  tb::handshake(run, c);
  run.at(0.051, c.client_data(tb::client_hello("blocked.example")));
  EXPECT_TRUE(run.only<ClientHelloBlackhole>().anomalies.empty());
}

}  // namespace
}  // namespace vantage::capture
