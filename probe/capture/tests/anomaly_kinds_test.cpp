// Anomaly kinds: the JSON strings are a stored format (measurements, the
// verdict's evidence, ci/lab/pcap_check.py read them), and the table holds
// one detector per kind.
#include <gtest/gtest.h>

#include <set>

#include "probe/capture/anomaly.h"
#include "probe/capture/detectors/detector.h"

namespace vantage::capture {
namespace {

TEST(AnomalyKinds, StringsAreTheStoredOnes) {
  const std::vector<std::string> expected = {
      "dns_multiple_answers",   "dns_ttl_mismatch",       "dns_answer_from_silent_server",
      "syn_blackhole",          "client_hello_blackhole", "tcp_rst_injected",
      "tcp_data_after_rst",     "icmp_unreachable",       "injected_fast_response"};
  ASSERT_EQ(kAllAnomalyKinds.size(), expected.size());
  for (std::size_t i = 0; i < expected.size(); ++i) {
    EXPECT_EQ(to_string(kAllAnomalyKinds[i]), expected[i]);
    EXPECT_EQ(anomaly_kind_from_string(expected[i]), kAllAnomalyKinds[i]);
  }
  EXPECT_FALSE(anomaly_kind_from_string("syn_blackhole ").has_value());
  EXPECT_FALSE(anomaly_kind_from_string("").has_value());
}

TEST(AnomalyKinds, TheTableHasOneDetectorPerKindInOrder) {
  const auto table = default_detectors();
  ASSERT_EQ(table.size(), kAllAnomalyKinds.size());
  for (std::size_t i = 0; i < table.size(); ++i) EXPECT_EQ(table[i]->kind(), kAllAnomalyKinds[i]);
}

TEST(AnomalyKinds, JsonForm) {
  Anomaly a{AnomalyKind::tcp_rst_injected, "signal:chat", 1.5, {{"rst_ttl", 64}}};
  EXPECT_EQ(anomaly_to_json(a),
            nlohmann::json({{"type", "tcp_rst_injected"}, {"endpoint", "signal:chat"}, {"t", 1.5},
                            {"evidence", {{"rst_ttl", 64}}}}));
}

}  // namespace
}  // namespace vantage::capture
