// DnsAnswerFromSilentServer: emits AnomalyKind::dns_answer_from_silent_server.
// Rule: responses from a resolver that also answered a query with ICMP port
// unreachable, or that the registry declares runs no DNS server: whoever
// answered, it was not that server.
#pragma once

#include "probe/capture/detectors/detector.h"

namespace vantage::capture {

class DnsAnswerFromSilentServer final : public Detector {
 public:
  static constexpr AnomalyKind kKind = AnomalyKind::dns_answer_from_silent_server;
  AnomalyKind kind() const override { return kKind; }
  void finish_exchange(const FlowTracker& tracker, const DnsExchange& e, AnomalySink& out) override;
};

}  // namespace vantage::capture
