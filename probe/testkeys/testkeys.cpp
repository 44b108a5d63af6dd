// Generic test_keys assembly. See testkeys.h.
#include "probe/testkeys/testkeys.h"

#include <algorithm>

#include "analysis/verdict/verdict.h"
#include "probe/testkeys/feature_status.h"
#include "probe/testkeys/service_keys.h"
#include "reports/format/observations_json.h"
#include "reports/format/plan.h"
#include "reports/format/vocabulary.h"

namespace vantage::testkeys {

using nlohmann::json;

namespace {

template <typename T>
json to_array(const std::vector<T>& v) {
  json a = json::array();
  for (const auto& o : v) a.push_back(format::to_json(o));
  return a;
}

json raw_keys(const engine::ServiceObservations& obs) {
  return json{{"queries", to_array(obs.queries)},
              {"tcp_connect", to_array(obs.tcp_connect)},
              {"tls_handshakes", to_array(obs.tls_handshakes)},
              {"requests", to_array(obs.requests)},
              {"network_events", to_array(obs.network_events)},
              {"x_app_exchanges", to_array(obs.app_exchanges)},
              {"x_endpoints", format::to_json(obs.endpoints)}};
}

}  // namespace

json canary_summary(const engine::ServiceObservations& canary) {
  json keys = raw_keys(canary);
  keys["x_features"] = format::to_json(std::vector<format::Feature>{{"network", vocab::kRuleAny, "", true}});
  // Judge the canary with the same function, minus control and canary.
  json v = analysis::compute_verdict(keys);
  double best_kbps = -1;
  for (const auto& r : canary.requests) {
    if (std::find(r.tags.begin(), r.tags.end(), vocab::kTagRetried) != r.tags.end()) continue;
    best_kbps = std::max(best_kbps, analysis::request_throughput_kbps(format::to_json(r)));
  }
  format::Canary c;
  for (const auto& e : v["endpoints"])
    c.endpoints.push_back({e["endpoint"].get<std::string>(), e["status"] == vocab::kOk ? vocab::kOk : vocab::kFailed,
                           e["failure"].is_string() ? std::optional<std::string>(e["failure"].get<std::string>())
                                                    : std::nullopt});
  c.status = c.endpoints.empty() ? vocab::kAbsent
             : v["features"].value("network", json::object()).value("status", "") == vocab::kAccessible ? vocab::kOk
                                                                                                       : vocab::kFailed;
  if (best_kbps > 0) c.throughput_kbps = best_kbps;
  return format::to_json(c);
}

json build_test_keys(const catalog::Service& service, const engine::ServiceObservations& obs, const json& canary,
                     const json& capture) {
  json keys = raw_keys(obs);
  std::vector<format::Feature> features;
  for (const auto& f : service.features) {
    bool judged = false;
    for (const auto& e : service.endpoints) judged = judged || (e.feature == f.name && e.judged);
    features.push_back({f.name, f.rule, f.description, judged});
  }
  keys["x_features"] = format::to_json(features);
  keys["x_networks"] = format::to_json(format::Networks{service.asns, service.prefixes});
  keys["x_canary"] = canary;
  keys["x_control"] = obs.control ? format::to_json(*obs.control) : json(nullptr);
  keys["x_ipv6"] = json{{"usable", obs.ipv6.usable ? json(*obs.ipv6.usable) : json(nullptr)},
                        {"reason", obs.ipv6.reason.empty() ? json(nullptr) : json(obs.ipv6.reason)},
                        {"addresses", obs.ipv6.addresses}};
  if (!capture.is_null()) keys["x_capture"] = capture;
  keys["x_verdict"] = analysis::compute_verdict(keys);
  // The experiment-level failure OONI's specs define (null when the
  // measurement ran; blocking is reported in the service's own keys). OONI's
  // pipeline scores a Signal measurement without both keys as failed.
  keys["failure"] = nullptr;
  keys["failed_operation"] = nullptr;
  // Each feature's OONI-style keys, named by the catalog, judged by its rule.
  for (const auto& f : service.features) {
    if (f.ooni_status_key.empty() && f.ooni_failure_key.empty()) continue;
    const auto s = ooni_feature_status(keys, f.name, f.rule == "any");
    if (!f.ooni_status_key.empty()) keys[f.ooni_status_key] = s.status;
    if (!f.ooni_failure_key.empty()) keys[f.ooni_failure_key] = s.failure;
  }
  if (auto build = service_keys_builder(service.test_name)) build(service, keys);
  return keys;
}

}  // namespace vantage::testkeys
