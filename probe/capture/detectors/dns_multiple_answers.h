// DnsMultipleAnswers: emits AnomalyKind::dns_multiple_answers.
// Rule: ≥ 2 responses to one (client, resolver, id, qname), and either they
// differ (answer set, rcode or IP TTL) or there are more responses than
// queries sent. A retransmitted query answered twice alike is clean.
#pragma once

#include "probe/capture/detectors/detector.h"

namespace vantage::capture {

class DnsMultipleAnswers final : public Detector {
 public:
  static constexpr AnomalyKind kKind = AnomalyKind::dns_multiple_answers;
  AnomalyKind kind() const override { return kKind; }
  void finish_exchange(const FlowTracker& tracker, const DnsExchange& e, AnomalySink& out) override;
};

}  // namespace vantage::capture
