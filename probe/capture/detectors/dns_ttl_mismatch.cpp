// dns_ttl_mismatch. See dns_ttl_mismatch.h for the rule.
#include "probe/capture/detectors/dns_ttl_mismatch.h"

#include <cstdlib>

#include "probe/capture/detectors/evidence.h"

namespace vantage::capture {

using nlohmann::json;

void DnsTtlMismatch::begin_finish(const FlowTracker& tracker) {
  std::map<Peer, std::map<int, int>> last_ttls;
  for (const auto& e : tracker.exchanges())
    if (!e.responses.empty()) ++last_ttls[e.server][e.responses.back().ttl];
  usual_.clear();
  for (const auto& [server, counts] : last_ttls) {
    std::pair<int, int> best{-1, 0};
    for (const auto& [ttl, n] : counts)
      if (n > best.second) best = {ttl, n};
    if (best.second >= 2) usual_[server] = best;
  }
}

void DnsTtlMismatch::finish_exchange(const FlowTracker& tracker, const DnsExchange& e, AnomalySink& out) {
  auto it = usual_.find(e.server);
  if (e.responses.empty() || it == usual_.end()) return;
  const auto [usual_ttl, usual_count] = it->second;
  json odd_ttls = json::array(), odd_answers = json::array();
  double odd_t = -1;
  for (const auto& r : e.responses)
    if (std::abs(static_cast<int>(r.ttl) - usual_ttl) > tracker.options().dns_ttl_tolerance) {
      odd_ttls.push_back(r.ttl);
      odd_answers.push_back(r.answers);
      if (odd_t < 0) odd_t = r.t;
    }
  if (odd_ttls.empty()) return;
  json ev = evidence::dns_base(e);
  ev.update({{"usual_ip_ttl", usual_ttl}, {"usual_count", usual_count},
             {"ip_ttls", odd_ttls}, {"answers", odd_answers}});
  out.emit(tracker.endpoints_for_qname(e.qname), odd_t, std::move(ev));
}

}  // namespace vantage::capture
