// Verdict from raw observations. See verdict.h for the contract.
#include "analysis/verdict/verdict.h"

#include <algorithm>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "analysis/verdict/rules/rules.h"
#include "reports/format/ip_address.h"
#include "reports/format/vocabulary.h"

namespace vantage::analysis {
namespace {

using nlohmann::json;
using rules::str;

// One endpoint through the rules, layer by layer (rules.h): the first rule
// that decides ends it.
rules::EndpointVerdict judge_endpoint(const rules::Measurement& m, const format::PlannedEndpoint& ep,
                                      const VerdictPolicy& policy) {
  rules::Judgement j(m, ep, policy);
  if (ep.failure == vocab::kInterrupted) {
    j.undecided(vocab::kInterrupted, "not measured: the run was interrupted or hit its deadline");
    return j.v;
  }
  // An endpoint reached by address (its host an IP literal) had no DNS
  // step: whatever "queries" a measurement holds, none is about it, so the
  // DNS rules neither block it nor find its address suspect.
  if (!ip::parse_address(ep.host, ip::Spelling::literal)) {
    rules::judge_dns(j);
    if (j.decided) return j.v;
  }
  const rules::ChainOutcome chain = rules::chain_outcome(j);
  if (chain.failed_step.empty() && !chain.complete) {
    j.note("no complete observation recorded for this endpoint");
    return j.v;
  }
  using Rule = void (*)(rules::Judgement&, const rules::ChainOutcome&);
  static constexpr Rule kRules[] = {
      rules::judge_failure_at_suspect_address,  // a step failed at an address DNS should not have given
      rules::judge_tcp,
      rules::judge_tls,
      rules::judge_app_protocol,  // accepted, then cut once the app's bytes passed
      rules::judge_http_failure_down,      // before throttling: an outage is not a policer
      rules::judge_throughput_on_failure,  // a timed-out body still flowing, slowly
      rules::judge_http_failure,
      rules::judge_http_status,  // every step succeeded from here on
      rules::judge_throughput,
  };
  for (Rule rule : kRules) {
    rule(j, chain);
    if (j.decided) return j.v;
  }
  j.ok();
  return j.v;
}

std::vector<std::string> sorted(const std::set<std::string>& s) { return {s.begin(), s.end()}; }

// Packet-level evidence (test_keys.x_capture.anomalies) about this endpoint
// or its name, e.g. "capture: tcp_rst_injected (rst_ttl=64, synack_ttl=57)".
// Evidence only: packet anomalies alone are not verdicts.
void add_capture_evidence(const json& keys, const format::PlannedEndpoint& ep, std::vector<std::string>& evidence) {
  if (!keys.contains("x_capture") || !keys["x_capture"].is_object()) return;
  const auto anomalies = keys["x_capture"].find("anomalies");
  if (anomalies == keys["x_capture"].end() || !anomalies->is_array()) return;
  const std::string& key = ep.endpoint;
  const std::string& host = ep.host;
  int shown = 0, more = 0;
  for (const auto& a : *anomalies) {
    if (!a.is_object()) continue;
    const std::string on = str(a, "endpoint");
    if (on.empty() || (on != key && on != host)) continue;
    std::string text = "capture: " + str(a, "type");
    std::string details;
    if (a.contains("evidence") && a["evidence"].is_object())
      for (auto it = a["evidence"].begin(); it != a["evidence"].end(); ++it) {
        if (details.size() > 160) break;
        const auto& val = it.value();
        if (val.is_primitive() && !val.is_null())
          details += (details.empty() ? "" : ", ") + it.key() + "=" + (val.is_string() ? val.get<std::string>() : val.dump());
        else if (val.is_array() && val.size() <= 4 && val.dump().size() < 60)
          details += (details.empty() ? "" : ", ") + it.key() + "=" + val.dump();
      }
    if (!details.empty()) text += " (" + details + ")";
    if (std::find(evidence.begin(), evidence.end(), text) != evidence.end()) continue;
    if (shown < 4) evidence.push_back(text), ++shown;
    else ++more;
  }
  if (more) evidence.push_back("capture: " + std::to_string(more) + " more anomalies (see x_capture)");
}

}  // namespace

std::string service_status(const FeatureCounts& c, bool canary_ok) {
  const bool a = c.accessible > 0, b = c.blocked > 0, d = c.down > 0, i = c.inconclusive > 0;
  if (!canary_ok || !(a || b || d || i)) return vocab::kInconclusive;
  if (b) return (a || d || i) ? vocab::kPartiallyBlocked : vocab::kBlocked;
  if (i) return vocab::kInconclusive;
  // Every failing feature is down for the control too: an outage, even when
  // other features (typically DNS-only ones) still work.
  if (d) return vocab::kDown;
  return vocab::kAccessible;
}

json compute_verdict(const json& keys_in, const VerdictPolicy& policy) {
  const json& keys = keys_in.is_object() ? keys_in : json::object();
  const rules::Measurement m = rules::Measurement::parse(keys);
  const bool canary_ok = m.canary_ok;

  json endpoints = json::array();
  struct FeatureTally {
    std::string rule = vocab::kRuleAll;
    int ok = 0, blocked = 0, down = 0, inconclusive = 0;
    std::set<std::string> methods;
  };
  std::map<std::string, FeatureTally> features;
  for (const auto& f : m.features)
    if (f.judged) features[f.name].rule = f.rule;

  for (const auto& ep : m.endpoints) {
    rules::EndpointVerdict v = judge_endpoint(m, ep, policy);
    if (v.status != vocab::kOk) add_capture_evidence(keys, ep, v.evidence);
    json e{{"endpoint", ep.endpoint},
           {"ip", ep.ip ? json(*ep.ip) : json(nullptr)},
           {"feature", ep.feature},
           {"status", v.status},
           {"method", v.method.empty() ? json(nullptr) : json(v.method)},
           {"failure", v.failure.empty() ? json(nullptr) : json(v.failure)},
           {"evidence", v.evidence}};
    if (!ep.judged) {
      e["judged"] = false;
      endpoints.push_back(e);
      continue;
    }
    endpoints.push_back(e);
    auto fit = features.find(ep.feature);
    if (fit == features.end()) continue;  // feature not judged
    FeatureTally& f = fit->second;
    if (v.status == vocab::kOk) ++f.ok;
    else if (v.status == vocab::kBlocked) ++f.blocked, f.methods.insert(v.method);
    else if (v.status == vocab::kDown) ++f.down;
    else ++f.inconclusive;
  }

  json feature_json = json::object();
  int acc = 0, blk = 0, dwn = 0, inc = 0;
  std::set<std::string> methods;
  for (auto& [name, f] : features) {
    int total = f.ok + f.blocked + f.down + f.inconclusive;
    if (total == 0) continue;
    std::string status;
    if (!canary_ok) status = vocab::kInconclusive;
    else if (f.rule == vocab::kRuleAny) {
      if (f.ok > 0) status = vocab::kAccessible;
      else if (f.blocked > 0) status = vocab::kBlocked;
      else if (f.down > 0 && f.inconclusive == 0) status = vocab::kDown;
      else status = vocab::kInconclusive;
    } else {
      if (f.blocked > 0) status = vocab::kBlocked;
      else if (f.ok == total) status = vocab::kAccessible;
      else if (f.inconclusive > 0) status = vocab::kInconclusive;
      else status = vocab::kDown;
    }
    json fm = json::array();
    if (status == vocab::kBlocked) {
      fm = sorted(f.methods);
      methods.insert(f.methods.begin(), f.methods.end());
    }
    feature_json[name] = {{"status", status},
                          {"methods", fm},
                          {"endpoints", {{"ok", f.ok}, {"blocked", f.blocked}, {"down", f.down}, {"inconclusive", f.inconclusive}}}};
    if (status == vocab::kAccessible) ++acc;
    else if (status == vocab::kBlocked) ++blk;
    else if (status == vocab::kDown) ++dwn;
    else ++inc;
  }

  const std::string status = service_status({acc, blk, dwn, inc}, canary_ok);

  // "Cross-checked" only when the control actually answered something.
  bool control_used = false;
  std::string unreachable;
  if (m.control) {
    for (const auto& [key, a] : m.control->answers) control_used = control_used || a.answered();
    unreachable = m.control->unreachable.value_or("");
  }
  std::string confidence = !canary_ok ? "low" : control_used ? "high" : "medium";
  return json{{"status", status},
              {"methods", sorted(methods)},
              {"features", feature_json},
              {"endpoints", endpoints},
              {"canary", canary_ok ? vocab::kOk : vocab::kFailed},
              {"confidence", confidence},
              {"confidence_reason", !canary_ok ? "the probe's own network failed its canary"
                                    : control_used ? "failures were cross-checked with the control vantage point"
                                    : !unreachable.empty()
                                        ? "the control vantage point could not be reached (" + unreachable +
                                              "): an outage would look like blocking"
                                        : "no control vantage point: an outage would look like blocking"}};
}

}  // namespace vantage::analysis
