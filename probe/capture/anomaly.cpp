// Anomaly kinds and their JSON form. See anomaly.h.
#include "probe/capture/anomaly.h"

namespace vantage::capture {

std::string_view to_string(AnomalyKind kind) {
  switch (kind) {
    case AnomalyKind::dns_multiple_answers: return "dns_multiple_answers";
    case AnomalyKind::dns_ttl_mismatch: return "dns_ttl_mismatch";
    case AnomalyKind::dns_answer_from_silent_server: return "dns_answer_from_silent_server";
    case AnomalyKind::syn_blackhole: return "syn_blackhole";
    case AnomalyKind::client_hello_blackhole: return "client_hello_blackhole";
    case AnomalyKind::tcp_rst_injected: return "tcp_rst_injected";
    case AnomalyKind::tcp_data_after_rst: return "tcp_data_after_rst";
    case AnomalyKind::icmp_unreachable: return "icmp_unreachable";
    case AnomalyKind::injected_fast_response: return "injected_fast_response";
  }
  return "unknown";  // not reached: every enumerator is handled (-Wswitch)
}

std::optional<AnomalyKind> anomaly_kind_from_string(std::string_view type) {
  for (const auto kind : kAllAnomalyKinds)
    if (to_string(kind) == type) return kind;
  return std::nullopt;
}

nlohmann::json anomaly_to_json(const Anomaly& a) {
  return {{"type", std::string(to_string(a.kind))}, {"endpoint", a.endpoint}, {"t", a.t}, {"evidence", a.evidence}};
}

}  // namespace vantage::capture
