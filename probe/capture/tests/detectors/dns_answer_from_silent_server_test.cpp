// The dns_answer_from_silent_server detector alone, on crafted packets: what it reports, with which evidence, and
// the near misses it must not report.
#include <gtest/gtest.h>

#include "probe/capture/detectors/dns_answer_from_silent_server.h"
#include "probe/capture/tests/detector_scenario.h"

namespace vantage::capture {
namespace {

namespace tb = testing;
using nlohmann::json;
using tb::Scenario;

TEST(DnsAnswerFromSilentServerDetector, RegisteredSilentResolverAnswers) {
  Scenario run;
  run.registry.silent_resolvers = {"198.18.0.53"};  // port 53 by default
  run.at(0.0, tb::query(5, "signal.org"));
  run.at(0.004, tb::answer(5, "signal.org", "198.18.66.6", 90));
  auto r = run.only<DnsAnswerFromSilentServer>();
  ASSERT_EQ(r.anomalies.size(), 1u) << tb::dump(r);
  const auto& e = r.anomalies[0].evidence;
  EXPECT_EQ(e["why"], "registered_silent");
  EXPECT_EQ(e["resolver"], tb::kResolver);
  EXPECT_EQ(e["ip_ttls"], json({90}));
  EXPECT_FALSE(e.contains("icmp_t"));
}

TEST(DnsAnswerFromSilentServerDetector, PortUnreachableFromTheResolverItself) {
  Scenario run;
  const auto q = tb::query(5, "signal.org");
  run.at(0.0, q);
  run.at(0.004, tb::answer(5, "signal.org", "198.18.66.6", 90));
  run.at(0.030, tb::ipv4("198.18.0.53", "198.18.0.2", 1, tb::icmp(3, 3, q.substr(0, 28)), 58));
  auto r = run.only<DnsAnswerFromSilentServer>();
  ASSERT_EQ(r.anomalies.size(), 1u) << tb::dump(r);
  EXPECT_EQ(r.anomalies[0].evidence["why"], "icmp_port_unreachable");
  EXPECT_NEAR(r.anomalies[0].evidence["icmp_t"].get<double>(), 0.030, 1e-9);
  EXPECT_NEAR(r.anomalies[0].t, 0.004, 1e-9);
}

TEST(DnsAnswerFromSilentServerDetector, PortUnreachableFromARouterSaysNothingAboutTheResolver) {
  Scenario run;
  const auto q = tb::query(5, "signal.org");
  run.at(0.0, q);
  run.at(0.004, tb::answer(5, "signal.org", "198.18.1.10", 58));
  run.at(0.030, tb::ipv4("198.18.9.1", "198.18.0.2", 1, tb::icmp(3, 3, q.substr(0, 28)), 250));
  EXPECT_TRUE(run.only<DnsAnswerFromSilentServer>().anomalies.empty());
}

}  // namespace
}  // namespace vantage::capture
