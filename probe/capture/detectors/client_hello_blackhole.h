// ClientHelloBlackhole: emits AnomalyKind::client_hello_blackhole.
// Rule: the ClientHello segment sent ≥ client_hello_blackhole_min_sends times
// and nothing back after it (no ACK covering it, data, RST, FIN, ICMP error).
#pragma once

#include "probe/capture/detectors/detector.h"

namespace vantage::capture {

class ClientHelloBlackhole final : public Detector {
 public:
  static constexpr AnomalyKind kKind = AnomalyKind::client_hello_blackhole;
  AnomalyKind kind() const override { return kKind; }
  void finish_flow(const FlowTracker& tracker, const TcpFlow& f, double end_ts, AnomalySink& out) override;
};

}  // namespace vantage::capture
