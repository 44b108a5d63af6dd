// Probe side of the control ("test helper") protocol: asks a control vantage
// point to measure a URL and a list of endpoints from where it is, so the
// probe can tell "blocked" (only we fail) from "down" (it fails too).
//
// One POST application/json with libcurl, TLS verified (system store or a
// given CA file). Never throws; never blocks past its timeout; never judges
// the answer (that is the verdict code's job) — it only returns it.
#pragma once

#include <chrono>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "reports/format/control_protocol.h"

namespace vantage::control {

// The request (one type with the helper: reports/format/control_protocol.h)
// and how this client reaches the control.
struct ControlQuery : format::ControlRequest {
  // Where to trust the control's certificate from (https control URLs).
  std::string ca_bundle;     // PEM file; "" = the system store only
  std::string user_agent = "vantage";
};

struct ControlAnswer {
  // OONI failure string (df-007) or "" on success: connection and TLS
  // failures as usual, "generic_timeout_error", "http_unexpected_status_code"
  // (the control answered with a non-200: see http_status and error),
  // "json_parse_error" (the answer is not a JSON object).
  std::string failure;
  int http_status = 0;         // the control's HTTP status, 0 if none
  std::string error;           // the control's {"error": ...} text on a 4xx/5xx
  nlohmann::json answer;       // the parsed answer (an object) on success
};

// `timeout` bounds the whole exchange; a helper may take up to ~15 s to
// answer (its own deadline), so pass at least 16 s for a full answer.
ControlAnswer ask_control(const std::string& control_url, const ControlQuery& q,
                          std::chrono::milliseconds timeout);

}  // namespace vantage::control
