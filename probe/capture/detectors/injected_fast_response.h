// InjectedFastResponse: emits AnomalyKind::injected_fast_response.
// Rule (streaming): a TLS alert or HTTP response arriving sooner than
// fast_response_fraction × RTT after the ClientHello/request: nearer than the
// server can be. Only when RTT ≥ fast_response_min_rtt_s (below that,
// timestamp jitter decides).
#pragma once

#include "probe/capture/detectors/detector.h"

namespace vantage::capture {

class InjectedFastResponse final : public Detector {
 public:
  static constexpr AnomalyKind kKind = AnomalyKind::injected_fast_response;
  AnomalyKind kind() const override { return kKind; }
  void on_inbound_payload(const FlowTracker& tracker, const TcpFlow& f, const DecodedPacket& p, double ts,
                          AnomalySink& out) override;

 private:
  std::set<std::size_t> reported_;  // flow orders already reported (one per flow)
};

}  // namespace vantage::capture
