// tcp_rst_injected. See tcp_rst_injected.h for the rule.
#include "probe/capture/detectors/tcp_rst_injected.h"

#include <cstdlib>

#include "probe/capture/detectors/evidence.h"

namespace vantage::capture {

using nlohmann::json;

void TcpRstInjected::begin_finish(const FlowTracker& tracker) {
  synack_ttls_.clear();
  for (const auto& f : tracker.flows())
    if (f.synack) ++synack_ttls_[f.server.ip][f.synack_ttl];
}

void TcpRstInjected::finish_flow(const FlowTracker& tracker, const TcpFlow& f, double, AnomalySink& out) {
  if (f.resets.empty()) return;
  const auto& options = tracker.options();
  int reference_ttl = -1;
  std::string reference = "synack";
  if (f.synack) {
    reference_ttl = f.synack_ttl;
  } else if (auto it = synack_ttls_.find(f.server.ip); it != synack_ttls_.end()) {
    int best = 0;
    for (const auto& [ttl, n] : it->second)
      if (n > best) {
        best = n;
        reference_ttl = ttl;
      }
    reference = "other_flows_synack";
  }
  json flagged = json::array();
  const ResetEvent* first = nullptr;
  json first_reasons;
  for (const auto& r : f.resets) {
    json reasons = json::array();
    if (reference_ttl >= 0 && std::abs(static_cast<int>(r.ttl) - reference_ttl) > options.rst_ttl_tolerance)
      reasons.push_back("ip_ttl");
    if (r.have_id_reference && r.ip_id != 0) {
      const uint16_t ahead = static_cast<uint16_t>(r.ip_id - r.id_reference);
      const uint16_t behind = static_cast<uint16_t>(r.id_reference - r.ip_id);
      if (ahead > 4096 && behind > 64) reasons.push_back("ip_id");
    } else if (r.have_id_reference && r.ip_id == 0 && f.synack && f.synack_id != 0) {
      // The stack numbers its packets (non-zero SYN-ACK IP-ID) but this one has none.
      reasons.push_back("ip_id");
    }
    const bool after_trigger = r.after == OutboundKind::client_hello || r.after == OutboundKind::request;
    if (after_trigger && r.rtt >= options.fast_response_min_rtt_s && r.after_t >= 0 &&
        r.t - r.after_t < options.fast_response_fraction * r.rtt)
      reasons.push_back("too_fast");
    if (reasons.empty()) continue;
    flagged.push_back({{"t", tracker.rel(r.t)}, {"ttl", r.ttl}, {"ip_id", r.ip_id}, {"flags", evidence::reset_flag(r)}});
    if (!first) {
      first = &r;
      first_reasons = reasons;
    }
  }
  if (!first) return;
  json ev = {{"server", f.server.text()},
             {"client_port", f.client.port},
             {"flags", evidence::reset_flag(*first)},
             {"reasons", first_reasons},
             {"rst_ttl", first->ttl},
             {"synack_ttl", reference_ttl >= 0 ? json(reference_ttl) : json(nullptr)},
             {"ttl_reference", reference},
             {"rst_ip_id", first->ip_id},
             {"synack_ip_id", f.synack ? json(f.synack_id) : json(nullptr)},
             {"server_last_ip_id", first->have_id_reference ? json(first->id_reference) : json(nullptr)},
             {"after", to_string(first->after)},
             {"delay_ms", first->after_t >= 0 ? json(round_ms(first->t - first->after_t)) : json(nullptr)},
             {"rtt_ms", evidence::ms_or_null(first->rtt)},
             {"count", flagged.size()},
             {"packets", flagged}};
  if (!f.sni.empty()) ev["sni"] = f.sni;
  out.emit(tracker.endpoints_for_address(f.server), first->t, std::move(ev));
}

}  // namespace vantage::capture
