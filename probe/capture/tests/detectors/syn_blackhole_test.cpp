// The syn_blackhole detector alone, on crafted packets: what it reports, with which evidence, and
// the near misses it must not report.
#include <gtest/gtest.h>

#include "probe/capture/detectors/syn_blackhole.h"
#include "probe/capture/tests/detector_scenario.h"

namespace vantage::capture {
namespace {

namespace tb = testing;
using nlohmann::json;
using tb::Scenario;

TEST(SynBlackholeDetector, RetransmittedSynsAndNothingBack) {
  Scenario run;
  tb::TcpConversation c;
  run.at(0.5, c.syn());
  run.at(1.5, c.syn());
  auto r = run.only<SynBlackhole>();
  ASSERT_EQ(r.anomalies.size(), 1u) << tb::dump(r);
  const auto& e = r.anomalies[0].evidence;
  EXPECT_EQ(e["server"], tb::kServer);
  EXPECT_EQ(e["syn_count"], 2);
  EXPECT_EQ(e["first_syn_t"], 0.5);
  EXPECT_EQ(e["waited_s"], 1.0);  // until the last packet: no end time given
  EXPECT_EQ(r.anomalies[0].t, 0.5);
}

TEST(SynBlackholeDetector, MinimumSynsIsAnOption) {
  Scenario run;
  tb::TcpConversation c;
  run.at(0.0, c.syn());
  run.at(1.0, c.syn());
  run.options.syn_blackhole_min_syns = 3;
  EXPECT_TRUE(run.only<SynBlackhole>().anomalies.empty());
}

TEST(SynBlackholeDetector, AnyAnswerMeansNoBlackhole) {
  for (int answer = 0; answer < 3; ++answer) {
    Scenario run;
    tb::TcpConversation c;
    const auto syn = c.syn();
    run.at(0.0, syn);
    run.at(1.0, syn);
    if (answer == 0) run.at(1.05, c.synack(0));
    if (answer == 1) run.at(1.05, c.server_flags(tcpflag::kRst | tcpflag::kAck, 0));
    if (answer == 2) run.at(1.05, tb::ipv4("198.18.9.1", "198.18.0.2", 1, tb::icmp(3, 1, syn.substr(0, 28)), 250));
    auto r = run.only<SynBlackhole>();
    EXPECT_TRUE(r.anomalies.empty()) << answer << " " << tb::dump(r);
  }
}

}  // namespace
}  // namespace vantage::capture
