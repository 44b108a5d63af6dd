// One entry point that scores any stored measurement, Vantage's or OONI's.
//
//   - Vantage measurements (test_keys has the plan, x_endpoints): the probe's
//     own verdict function, compute_verdict (analysis/verdict), re-run on the
//     stored observations. scoring_rule "vantage-verdict".
//   - OONI's messaging tests (whatsapp ts-018, signal ts-029, telegram ts-020,
//     facebook_messenger ts-019), every test version: scored from the raw
//     observations (requests[], tcp_connect[], queries[]) where they exist,
//     from the test's own keys where old versions recorded nothing else.
//     Where OONI's rules are known to mislead (Signal's sfu.voip CA change of
//     October 2022, its endpoints retired in November 2023, WhatsApp's
//     worldwide port 5222 refusal in January 2026, http://web.whatsapp.com
//     answering 403), the scorer judges from what was observed and says so:
//     scoring_rule carries "+<trap>" and notes[] explains.
//
// A measurement that cannot be scored (no test_keys, an unknown test, no
// observation a rule needs) is "unscorable" — never "accessible".
// Never throws on malformed input.
#pragma once

#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

namespace vantage::analysis {

struct FeatureScore {
  std::string status;                // accessible | blocked | down | inconclusive | unscorable
  std::vector<std::string> methods;  // dns, tcp_ip, tls, http, throttling, app_protocol ...; sorted
};

struct Score {
  std::string service;  // the test_name: whatsapp, signal, telegram, facebook_messenger, wechat...
  // accessible | blocked | partially_blocked | down | inconclusive | unscorable
  std::string verdict = "unscorable";
  std::vector<std::string> methods;  // sorted, of the blocked features
  std::map<std::string, FeatureScore> features;
  std::string scoring_rule;  // "vantage-verdict", "ooni-signal-0.2-raw+signal-retired-endpoints-2023-11", ...
  std::vector<std::string> notes;
};

// Scores a whole measurement (envelope + test_keys).
Score score_measurement(const nlohmann::json& measurement);

// The score of a verdict the probe recorded (test_keys.x_verdict, made by
// compute_verdict), as is: scoring_rule "vantage-verdict-recorded". No
// judged feature -> unscorable.
Score score_recorded_verdict(const nlohmann::json& x_verdict);

// The service verdict from feature verdicts (the rule compute_verdict uses):
// any partially_blocked (a feature blocked over one address family only)
// -> partially_blocked; any blocked -> blocked when all are, else
// partially_blocked; then inconclusive, down, accessible. No features ->
// unscorable.
std::string combine_features(const std::map<std::string, FeatureScore>& features);
// The same rule over the features' bare statuses.
std::string combine_statuses(const std::vector<std::string_view>& statuses);

// {"service_verdict", "features": {name: {status, methods}}, "scoring_rule", "notes", "methods"}
nlohmann::json to_x_analysis(const Score& score);

// Which blocking method a failure string points to, given the step that
// failed ("resolve", "connect", "tls_handshake", "http_round_trip", or "").
std::string method_of_failure(const std::string& failure, const std::string& step);

}  // namespace vantage::analysis
