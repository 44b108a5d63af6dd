// The icmp_unreachable detector alone, on crafted packets: what it reports, with which evidence, and
// the near misses it must not report.
#include <gtest/gtest.h>

#include "probe/capture/detectors/icmp_unreachable.h"
#include "probe/capture/tests/detector_scenario.h"

namespace vantage::capture {
namespace {

namespace tb = testing;
using nlohmann::json;
using tb::Scenario;

TEST(IcmpUnreachableDetector, OneAnomalyPerDestinationAndCodeWithTheCount) {
  Scenario run;
  tb::TcpConversation c;
  const auto syn = c.syn();
  const auto error = tb::ipv4("198.18.9.1", "198.18.0.2", 1, tb::icmp(3, 10, syn.substr(0, 28)), 250);
  run.at(0.0, syn);
  run.at(0.01, error);
  run.at(1.0, syn);
  run.at(1.01, error);
  auto r = run.only<IcmpUnreachable>();
  ASSERT_EQ(r.anomalies.size(), 1u) << tb::dump(r);
  const auto& e = r.anomalies[0].evidence;
  EXPECT_EQ(e["protocol"], "tcp");
  EXPECT_EQ(e["destination"], tb::kServer);
  EXPECT_EQ(e["count"], 2);
  EXPECT_EQ(e["admin_prohibited"], true);
  EXPECT_EQ(e["from_destination"], false);
  EXPECT_NEAR(e["last_t"].get<double>(), 1.01, 1e-9);
}

TEST(IcmpUnreachableDetector, UdpPortUnreachableFromTheResolver) {
  Scenario run;
  const auto q = tb::query(5, "a.example");
  run.at(0.0, q);
  run.at(0.02, tb::ipv4("198.18.0.53", "198.18.0.2", 1, tb::icmp(3, 3, q.substr(0, 28)), 58));
  auto r = run.only<IcmpUnreachable>();
  ASSERT_EQ(r.anomalies.size(), 1u) << tb::dump(r);
  EXPECT_EQ(r.anomalies[0].evidence["protocol"], "udp");
  EXPECT_EQ(r.anomalies[0].evidence["port_unreachable"], true);
  EXPECT_EQ(r.anomalies[0].evidence["from_destination"], true);
  EXPECT_EQ(r.anomalies[0].evidence["from"], "198.18.0.53");
}

TEST(IcmpUnreachableDetector, AnErrorAboutSomeoneElsesPacketIsIgnored) {
  Scenario run;
  tb::TcpConversation other;
  other.server = "198.18.7.7";
  run.at(0.0, tb::ipv4("198.18.9.1", "198.18.0.2", 1, tb::icmp(3, 13, other.syn().substr(0, 28)), 250));
  EXPECT_TRUE(run.only<IcmpUnreachable>().anomalies.empty());
}

}  // namespace
}  // namespace vantage::capture
