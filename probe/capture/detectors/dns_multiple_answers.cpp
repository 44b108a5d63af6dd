// dns_multiple_answers. See dns_multiple_answers.h for the rule.
#include "probe/capture/detectors/dns_multiple_answers.h"

#include <algorithm>

#include "probe/capture/detectors/evidence.h"

namespace vantage::capture {

using nlohmann::json;

void DnsMultipleAnswers::finish_exchange(const FlowTracker& tracker, const DnsExchange& e, AnomalySink& out) {
  if (e.responses.size() < 2) return;
  const auto& first = e.responses.front();
  auto first_answers = first.answers;
  std::sort(first_answers.begin(), first_answers.end());
  bool differ = false;
  json ids = json::array(), rcodes = json::array(), delays = json::array();
  for (const auto& r : e.responses) {
    ids.push_back(r.ip_id);
    rcodes.push_back(r.rcode);
    delays.push_back(e.query_t.empty() ? json(nullptr) : json(round_ms(r.t - e.query_t.front())));
    if (r.ttl != first.ttl || r.rcode != first.rcode) differ = true;
    auto answers = r.answers;
    std::sort(answers.begin(), answers.end());
    if (answers != first_answers) differ = true;
  }
  const std::size_t queries = e.query_t.size();
  if (!differ && e.responses.size() <= std::max<std::size_t>(1, queries)) return;
  json ev = evidence::dns_base(e);
  ev.update({{"count", e.responses.size()}, {"queries", queries}, {"differ", differ},
             {"ip_ttls", evidence::response_ttls(e)}, {"ip_ids", ids},
             {"answers", evidence::response_answers(e)}, {"rcodes", rcodes},
             {"t", evidence::response_times(tracker, e)}, {"delays_ms", delays}});
  out.emit(tracker.endpoints_for_qname(e.qname), first.t, std::move(ev));
}

}  // namespace vantage::capture
