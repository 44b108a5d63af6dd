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

namespace vantage::control {

struct ControlQuery {
  std::string http_request;                                     // the URL to fetch
  std::map<std::string, std::vector<std::string>> http_request_headers;
  std::vector<std::string> tcp_connect;                         // "ip:port" / "[v6]:port"
  std::string http_method;                                      // "" = GET (x_http_method)
  std::string http_body;                                        // x_http_body (POST only)
  std::string chain;                                            // x_chain: what to measure ("" = all)

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

// The JSON request body for `q` (reports/control/README.md: OONI's helper protocol plus our x_ extensions).
nlohmann::json control_request_json(const ControlQuery& q);

// `timeout` bounds the whole exchange; a helper may take up to ~15 s to
// answer (its own deadline), so pass at least 16 s for a full answer.
ControlAnswer ask_control(const std::string& control_url, const ControlQuery& q,
                          std::chrono::milliseconds timeout);

}  // namespace vantage::control
