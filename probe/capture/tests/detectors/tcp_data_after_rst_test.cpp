// The tcp_data_after_rst detector alone, on crafted packets: what it reports, with which evidence, and
// the near misses it must not report.
#include <gtest/gtest.h>

#include "probe/capture/detectors/tcp_data_after_rst.h"
#include "probe/capture/tests/detector_scenario.h"

namespace vantage::capture {
namespace {

namespace tb = testing;
using nlohmann::json;
using tb::Scenario;

TEST(TcpDataAfterRstDetector, ServerDataBeyondTheRstsSequence) {
  Scenario run;
  tb::TcpConversation c;
  tb::handshake(run, c);
  run.at(0.051, c.client_data(tb::client_hello("blocked.example")));
  run.at(0.060, c.server_flags(tcpflag::kRst, 1, 30));
  run.at(0.101, c.server_data(std::string(500, 's'), 9000));
  run.at(0.102, c.server_data(std::string(500, 's'), 9001));  // only the first is reported
  auto r = run.only<TcpDataAfterRst>();
  ASSERT_EQ(r.anomalies.size(), 1u) << tb::dump(r);
  const auto& e = r.anomalies[0].evidence;
  EXPECT_EQ(e["data_bytes"], 500);
  EXPECT_EQ(e["data_ip_id"], 9000);
  EXPECT_EQ(e["rst_seq"], e["data_seq"]);
  EXPECT_NEAR(e["rst_t"].get<double>(), 0.060, 1e-9);
  EXPECT_NEAR(r.anomalies[0].t, 0.101, 1e-9);
}

TEST(TcpDataAfterRstDetector, DataBelowTheRstIsAReorderedSegment) {
  Scenario run;
  tb::TcpConversation c;
  tb::handshake(run, c);
  const uint32_t first = c.server_seq;
  run.at(0.051, c.client_data(tb::client_hello("fine.example")));
  c.server_seq += 500;  // the segment at `first` comes late
  run.at(0.100, c.server_data(std::string(500, 's'), 4));
  run.at(0.101, c.server_flags(tcpflag::kRst, 5));
  run.at(0.102, c.server_data_at(first, std::string(500, 's'), 3));
  EXPECT_TRUE(run.only<TcpDataAfterRst>().anomalies.empty());
}

TEST(TcpDataAfterRstDetector, AFinIsNotARst) {
  Scenario run;
  tb::TcpConversation c;
  tb::handshake(run, c);
  run.at(0.051, c.client_data(tb::client_hello("fine.example")));
  run.at(0.100, c.server_flags(tcpflag::kFin | tcpflag::kAck, 4));
  run.at(0.101, c.server_data(std::string(500, 's'), 5));
  EXPECT_TRUE(run.only<TcpDataAfterRst>().anomalies.empty());
}

}  // namespace
}  // namespace vantage::capture
