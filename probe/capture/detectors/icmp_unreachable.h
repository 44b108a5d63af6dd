// IcmpUnreachable: emits AnomalyKind::icmp_unreachable.
// Rule: ICMP(v6) destination unreachable quoting a packet the probe sent to a
// registered flow; one anomaly per (protocol, destination, type, code), with
// the count. The sender is masked when it is a private address.
#pragma once

#include "probe/capture/detectors/detector.h"

namespace vantage::capture {

class IcmpUnreachable final : public Detector {
 public:
  static constexpr AnomalyKind kKind = AnomalyKind::icmp_unreachable;
  AnomalyKind kind() const override { return kKind; }
  void finish_icmp(const FlowTracker& tracker, const IcmpEvent& e, AnomalySink& out) override;
};

}  // namespace vantage::capture
