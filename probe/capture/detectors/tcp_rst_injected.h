// TcpRstInjected: emits AnomalyKind::tcp_rst_injected.
// Rule: an inbound RST (or FIN) whose IP TTL differs from the flow's SYN-ACK
// by more than rst_ttl_tolerance (or, without a SYN-ACK in this flow, from
// the server's usual SYN-ACK TTL in other flows); or whose IP-ID is outside
// [last-64, last+4096] of the server's last non-zero IP-ID in the flow (only
// when such an IP-ID exists: Linux sends SYN-ACKs with IP-ID 0), or is 0 from
// a stack that numbers its packets; or that arrives after the
// ClientHello/request sooner than fast_response_fraction × the SYN→SYN-ACK
// RTT. One anomaly per flow, naming the first such packet and counting all.
// The server's own RST after a normal close is none of these.
#pragma once

#include "probe/capture/detectors/detector.h"

namespace vantage::capture {

class TcpRstInjected final : public Detector {
 public:
  static constexpr AnomalyKind kKind = AnomalyKind::tcp_rst_injected;
  AnomalyKind kind() const override { return kKind; }
  void begin_finish(const FlowTracker& tracker) override;
  void finish_flow(const FlowTracker& tracker, const TcpFlow& f, double end_ts, AnomalySink& out) override;

 private:
  std::map<IpAddress, std::map<int, int>> synack_ttls_;  // server → SYN-ACK TTL → flows
};

}  // namespace vantage::capture
