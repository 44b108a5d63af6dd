// The dns_multiple_answers detector alone, on crafted packets: what it reports, with which evidence, and
// the near misses it must not report.
#include <gtest/gtest.h>

#include "probe/capture/detectors/dns_multiple_answers.h"
#include "probe/capture/tests/detector_scenario.h"

namespace vantage::capture {
namespace {

namespace tb = testing;
using nlohmann::json;
using tb::Scenario;

TEST(DnsMultipleAnswersDetector, TwoDifferentAnswersToOneQuery) {
  Scenario run;
  run.at(0.0, tb::query(7, "a.example"));
  run.at(0.004, tb::answer(7, "a.example", "198.18.66.6", 58));
  run.at(0.030, tb::answer(7, "a.example", "198.18.1.10", 58));
  auto r = run.only<DnsMultipleAnswers>();
  ASSERT_EQ(r.anomalies.size(), 1u) << tb::dump(r);
  const auto& e = r.anomalies[0].evidence;
  EXPECT_EQ(r.anomalies[0].endpoint, "a.example");  // no registry name: the qname
  EXPECT_EQ(e["differ"], true);
  EXPECT_EQ(e["queries"], 1);
  EXPECT_EQ(e["rcodes"], json({0, 0}));
  EXPECT_NEAR(r.anomalies[0].t, 0.004, 1e-9);
}

TEST(DnsMultipleAnswersDetector, TwoIdenticalAnswersToOneQueryAreMoreThanAsked) {
  Scenario run;
  run.at(0.0, tb::query(7, "a.example"));
  run.at(0.004, tb::answer(7, "a.example", "198.18.1.10", 58));
  run.at(0.030, tb::answer(7, "a.example", "198.18.1.10", 58));
  auto r = run.only<DnsMultipleAnswers>();
  ASSERT_EQ(r.anomalies.size(), 1u) << tb::dump(r);
  EXPECT_EQ(r.anomalies[0].evidence["differ"], false);
  EXPECT_EQ(r.anomalies[0].evidence["count"], 2);
}

TEST(DnsMultipleAnswersDetector, AnswerOrderDoesNotMakeThemDiffer) {
  Scenario run;
  const auto ab = tb::ipv4("198.18.0.53", "198.18.0.2", 17,
                           tb::udp(53, 5353, tb::dns_response(9, "b.example", {"198.18.1.1", "198.18.1.2"})), 58);
  const auto ba = tb::ipv4("198.18.0.53", "198.18.0.2", 17,
                           tb::udp(53, 5353, tb::dns_response(9, "b.example", {"198.18.1.2", "198.18.1.1"})), 58);
  run.at(0.0, tb::query(9, "b.example"));
  run.at(1.0, tb::query(9, "b.example"));
  run.at(1.01, ab);
  run.at(1.02, ba);
  auto r = run.only<DnsMultipleAnswers>();
  EXPECT_TRUE(r.anomalies.empty()) << tb::dump(r);
}

TEST(DnsMultipleAnswersDetector, OneAnswerIsClean) {
  Scenario run;
  run.at(0.0, tb::query(7, "a.example"));
  run.at(0.004, tb::answer(7, "a.example", "198.18.1.10", 58));
  EXPECT_TRUE(run.only<DnsMultipleAnswers>().anomalies.empty());
}

}  // namespace
}  // namespace vantage::capture
