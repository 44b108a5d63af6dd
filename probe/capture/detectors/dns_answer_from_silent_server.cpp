// dns_answer_from_silent_server. See dns_answer_from_silent_server.h for the rule.
#include "probe/capture/detectors/dns_answer_from_silent_server.h"

#include "probe/capture/detectors/evidence.h"

namespace vantage::capture {

using nlohmann::json;

void DnsAnswerFromSilentServer::finish_exchange(const FlowTracker& tracker, const DnsExchange& e,
                                                AnomalySink& out) {
  if (e.responses.empty()) return;
  const auto icmp = tracker.port_unreachable_from().find(e.server);
  const bool silent_by_icmp = icmp != tracker.port_unreachable_from().end();
  if (!silent_by_icmp && !tracker.registered_silent(e.server)) return;
  json ev = evidence::dns_base(e);
  ev.update({{"why", silent_by_icmp ? "icmp_port_unreachable" : "registered_silent"},
             {"ip_ttls", evidence::response_ttls(e)}, {"answers", evidence::response_answers(e)},
             {"t", evidence::response_times(tracker, e)}});
  if (silent_by_icmp) ev["icmp_t"] = tracker.rel(icmp->second);
  out.emit(tracker.endpoints_for_qname(e.qname), e.responses.front().t, std::move(ev));
}

}  // namespace vantage::capture
