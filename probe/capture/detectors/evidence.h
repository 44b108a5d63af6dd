// Evidence fields several detectors share, so each is spelled one way.
#pragma once

#include <nlohmann/json.hpp>

#include "probe/capture/flow_tracker.h"

namespace vantage::capture::evidence {

// Milliseconds, or null for a figure that was never measured (< 0).
inline nlohmann::json ms_or_null(double seconds) {
  return seconds >= 0 ? nlohmann::json(round_ms(seconds)) : nlohmann::json(nullptr);
}

// {"resolver", "qname", "query_id"} of a DNS exchange.
inline nlohmann::json dns_base(const DnsExchange& e) {
  return {{"resolver", e.server.text()}, {"qname", e.qname}, {"query_id", e.id}};
}

// One entry per response of the exchange, in arrival order.
inline nlohmann::json response_ttls(const DnsExchange& e) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& r : e.responses) out.push_back(r.ttl);
  return out;
}
inline nlohmann::json response_answers(const DnsExchange& e) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& r : e.responses) out.push_back(r.answers);
  return out;
}
inline nlohmann::json response_times(const FlowTracker& tracker, const DnsExchange& e) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& r : e.responses) out.push_back(tracker.rel(r.t));
  return out;
}

// "RST" or "FIN": which of the two a reset event was.
inline const char* reset_flag(const ResetEvent& r) { return (r.flags & tcpflag::kRst) ? "RST" : "FIN"; }

}  // namespace vantage::capture::evidence
