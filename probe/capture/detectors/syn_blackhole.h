// SynBlackhole: emits AnomalyKind::syn_blackhole.
// Rule: ≥ syn_blackhole_min_syns SYNs (i.e. retransmitted) and nothing at all
// back: no SYN-ACK, RST or ICMP error. One unanswered SYN is not enough.
#pragma once

#include "probe/capture/detectors/detector.h"

namespace vantage::capture {

class SynBlackhole final : public Detector {
 public:
  static constexpr AnomalyKind kKind = AnomalyKind::syn_blackhole;
  AnomalyKind kind() const override { return kKind; }
  void finish_flow(const FlowTracker& tracker, const TcpFlow& f, double end_ts, AnomalySink& out) override;
};

}  // namespace vantage::capture
