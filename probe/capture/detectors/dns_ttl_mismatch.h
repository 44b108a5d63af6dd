// DnsTtlMismatch: emits AnomalyKind::dns_ttl_mismatch.
// Rule: a response whose IP TTL is more than dns_ttl_tolerance away from the
// resolver's usual TTL: the most common TTL of the last response to each
// query (a forged answer races ahead; the real one comes last), seen for at
// least 2 queries.
#pragma once

#include "probe/capture/detectors/detector.h"

namespace vantage::capture {

class DnsTtlMismatch final : public Detector {
 public:
  static constexpr AnomalyKind kKind = AnomalyKind::dns_ttl_mismatch;
  AnomalyKind kind() const override { return kKind; }
  void begin_finish(const FlowTracker& tracker) override;
  void finish_exchange(const FlowTracker& tracker, const DnsExchange& e, AnomalySink& out) override;

 private:
  std::map<Peer, std::pair<int, int>> usual_;  // resolver → (usual IP TTL, queries seen with it)
};

}  // namespace vantage::capture
