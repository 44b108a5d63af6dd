// injected_fast_response. See injected_fast_response.h for the rule.
#include "probe/capture/detectors/injected_fast_response.h"

#include "probe/capture/tls_record.h"

namespace vantage::capture {

using nlohmann::json;

void InjectedFastResponse::on_inbound_payload(const FlowTracker& tracker, const TcpFlow& f, const DecodedPacket& p,
                                              double ts, AnomalySink& out) {
  const auto& options = tracker.options();
  if (f.trigger_t < 0 || f.rtt < options.fast_response_min_rtt_s || reported_.count(f.order)) return;
  std::string what;
  json detail;
  if (auto alert = parse_tls_alert(p.payload)) {
    what = "tls_alert";
    detail = {{"alert_level", alert->level}, {"alert_description", alert->description}};
  } else if (int status = http_response_status(p.payload)) {
    what = "http_response";
    detail = {{"status_code", status}};
  } else {
    return;
  }
  const double delay = ts - f.trigger_t;
  if (delay < 0 || delay >= options.fast_response_fraction * f.rtt) return;
  reported_.insert(f.order);
  json evidence = {{"response", what}, {"after", to_string(f.trigger_kind)}, {"delay_ms", round_ms(delay)},
                   {"rtt_ms", round_ms(f.rtt)}, {"ttl", p.ttl}, {"synack_ttl", f.synack_ttl},
                   {"ip_id", p.ip_id}, {"server", f.server.text()}};
  evidence.update(detail);
  if (!f.sni.empty()) evidence["sni"] = f.sni;
  out.emit(tracker.endpoints_for_address(f.server), ts, std::move(evidence));
}

}  // namespace vantage::capture
