// The injected_fast_response detector alone, on crafted packets: what it reports, with which evidence, and
// the near misses it must not report.
#include <gtest/gtest.h>

#include "probe/capture/detectors/injected_fast_response.h"
#include "probe/capture/tests/detector_scenario.h"

namespace vantage::capture {
namespace {

namespace tb = testing;
using nlohmann::json;
using tb::Scenario;

TEST(InjectedFastResponseDetector, AlertFasterThanHalfTheRtt) {
  Scenario run;
  tb::TcpConversation c;
  tb::handshake(run, c);
  run.at(0.060, c.client_data(tb::client_hello("blocked.example")));
  run.at(0.084, c.server_data(tb::tls_alert(2, 40), 0, 70));  // 24 ms < 25 ms
  run.at(0.085, c.server_data(tb::tls_alert(2, 40), 1, 70));  // one per flow
  auto r = run.only<InjectedFastResponse>();
  ASSERT_EQ(r.anomalies.size(), 1u) << tb::dump(r);
  const auto& e = r.anomalies[0].evidence;
  EXPECT_EQ(e["response"], "tls_alert");
  EXPECT_EQ(e["after"], "client_hello");
  EXPECT_EQ(e["alert_level"], 2);
  EXPECT_EQ(e["ttl"], 70);
  EXPECT_EQ(e["sni"], "blocked.example");
  EXPECT_NEAR(r.anomalies[0].t, 0.084, 1e-9);
}

TEST(InjectedFastResponseDetector, HalfTheRttOrMoreIsTheServer) {
  Scenario run;
  tb::TcpConversation c;
  tb::handshake(run, c);
  run.at(0.060, c.client_data(tb::client_hello("fine.example")));
  run.at(0.0851, c.server_data(tb::tls_alert(2, 40), 0));
  EXPECT_TRUE(run.only<InjectedFastResponse>().anomalies.empty());
}

TEST(InjectedFastResponseDetector, NotBelowTheMinimumRtt) {
  Scenario run;
  tb::TcpConversation c;
  run.at(0.0, c.syn());
  run.at(0.001, c.synack(0));  // 1 ms RTT: timestamp jitter decides
  run.at(0.0012, c.ack());
  run.at(0.002, c.client_data("GET / HTTP/1.1\r\nHost: a\r\n\r\n"));
  run.at(0.0021, c.server_data("HTTP/1.1 403 Forbidden\r\n\r\n", 0));
  EXPECT_TRUE(run.only<InjectedFastResponse>().anomalies.empty());
}

TEST(InjectedFastResponseDetector, PlainDataIsNoResponse) {
  Scenario run;
  tb::TcpConversation c;
  tb::handshake(run, c);
  run.at(0.060, c.client_data(tb::client_hello("fine.example")));
  run.at(0.061, c.server_data(std::string(300, 's'), 0));
  EXPECT_TRUE(run.only<InjectedFastResponse>().anomalies.empty());
}

}  // namespace
}  // namespace vantage::capture
