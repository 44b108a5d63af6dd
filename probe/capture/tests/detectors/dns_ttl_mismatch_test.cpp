// The dns_ttl_mismatch detector alone, on crafted packets: what it reports, with which evidence, and
// the near misses it must not report.
#include <gtest/gtest.h>

#include "probe/capture/detectors/dns_ttl_mismatch.h"
#include "probe/capture/tests/detector_scenario.h"

namespace vantage::capture {
namespace {

namespace tb = testing;
using nlohmann::json;
using tb::Scenario;

namespace {
// Queries to kResolver answered with these IP TTLs, one name each.
Scenario answered_with(const std::vector<uint8_t>& ttls) {
  Scenario run;
  for (std::size_t i = 0; i < ttls.size(); ++i) {
    const auto id = static_cast<uint16_t>(20 + i);
    const std::string name = "n" + std::to_string(i) + ".example";
    run.at(static_cast<double>(i), tb::query(id, name));
    run.at(i + 0.02, tb::answer(id, name, "198.18.1.1", ttls[i]));
  }
  return run;
}
}  // namespace

TEST(DnsTtlMismatchDetector, AnswerFarFromTheResolversUsualTtl) {
  auto run = answered_with({58, 58, 58, 61});
  auto r = run.only<DnsTtlMismatch>();
  ASSERT_EQ(r.anomalies.size(), 1u) << tb::dump(r);
  EXPECT_EQ(r.anomalies[0].endpoint, "n3.example");
  EXPECT_EQ(r.anomalies[0].evidence["usual_ip_ttl"], 58);
  EXPECT_EQ(r.anomalies[0].evidence["usual_count"], 3);
  EXPECT_EQ(r.anomalies[0].evidence["ip_ttls"], json({61}));
  EXPECT_NEAR(r.anomalies[0].t, 3.02, 1e-9);
}

TEST(DnsTtlMismatchDetector, WithinTheToleranceIsClean) {
  auto run = answered_with({58, 58, 58, 60});  // tolerance 2
  EXPECT_TRUE(run.only<DnsTtlMismatch>().anomalies.empty());
  auto strict = answered_with({58, 58, 58, 60});
  strict.options.dns_ttl_tolerance = 1;
  EXPECT_EQ(strict.only<DnsTtlMismatch>().anomalies.size(), 1u);
}

TEST(DnsTtlMismatchDetector, NoUsualTtlFromASingleQuery) {
  auto run = answered_with({58, 40});  // each TTL seen once: no usual one
  EXPECT_TRUE(run.only<DnsTtlMismatch>().anomalies.empty());
}

TEST(DnsTtlMismatchDetector, TheForgedAnswerThatRacedAheadIsTheOddOne) {
  // The last response of each query sets the usual TTL; the early forged one
  // of the third query is flagged, the real one after it is not.
  auto run = answered_with({58, 58});
  run.at(5.0, tb::query(30, "x.example"));
  run.at(5.003, tb::answer(30, "x.example", "198.18.66.6", 47));
  run.at(5.040, tb::answer(30, "x.example", "198.18.1.1", 58));
  auto r = run.only<DnsTtlMismatch>();
  ASSERT_EQ(r.anomalies.size(), 1u) << tb::dump(r);
  EXPECT_EQ(r.anomalies[0].evidence["ip_ttls"], json({47}));
  EXPECT_EQ(r.anomalies[0].evidence["answers"], json({{"A 198.18.66.6"}}));
}

}  // namespace
}  // namespace vantage::capture
