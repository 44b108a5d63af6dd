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

// One feature's endpoints of one family (or of all), counted by status.
struct Tally {
  int ok = 0, blocked = 0, down = 0, inconclusive = 0;
  std::set<std::string> methods;
  int total() const { return ok + blocked + down + inconclusive; }
  void add(const rules::EndpointVerdict& v) {
    if (v.status == vocab::kOk) ++ok;
    else if (v.status == vocab::kBlocked) ++blocked, methods.insert(v.method);
    else if (v.status == vocab::kDown) ++down;
    else ++inconclusive;
  }
};

// A feature's status from its endpoints by its rule ("any": one working
// endpoint is enough; "all": every one is needed).
std::string rule_status(const Tally& f, const std::string& rule, bool canary_ok) {
  if (!canary_ok) return vocab::kInconclusive;
  if (rule == vocab::kRuleAny) {
    if (f.ok > 0) return vocab::kAccessible;
    if (f.blocked > 0) return vocab::kBlocked;
    if (f.down > 0 && f.inconclusive == 0) return vocab::kDown;
    return vocab::kInconclusive;
  }
  if (f.blocked > 0) return vocab::kBlocked;
  if (f.ok == f.total()) return vocab::kAccessible;
  if (f.inconclusive > 0) return vocab::kInconclusive;
  return vocab::kDown;
}

}  // namespace

std::string combine_families(const std::string& a, const std::string& b) {
  if (a.empty()) return b;
  if (b.empty() || a == b) return a;
  auto either = [&](const char* x, const char* y) { return (a == x && b == y) || (a == y && b == x); };
  if (either(vocab::kBlocked, vocab::kAccessible)) return vocab::kPartiallyBlocked;
  if (a == vocab::kPartiallyBlocked || b == vocab::kPartiallyBlocked) return vocab::kPartiallyBlocked;
  if (a == vocab::kBlocked || b == vocab::kBlocked) return vocab::kBlocked;
  if (a == vocab::kAccessible || b == vocab::kAccessible) return vocab::kAccessible;
  return vocab::kInconclusive;  // down and inconclusive
}

std::string service_status(const FeatureCounts& c, bool canary_ok) {
  const bool a = c.accessible > 0, b = c.blocked > 0, d = c.down > 0, i = c.inconclusive > 0,
             p = c.partially_blocked > 0;
  if (!canary_ok || !(a || b || d || i || p)) return vocab::kInconclusive;
  if (p) return vocab::kPartiallyBlocked;
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
    Tally all;                             // every endpoint once
    std::map<std::string, Tally> family;   // by address family
  };
  std::map<std::string, FeatureTally> features;
  for (const auto& f : m.features)
    if (f.judged) features[f.name].rule = f.rule;

  // The families the measurement measured: IPv4 always, IPv6 when any
  // endpoint was measured over it or the probe found it usable. An endpoint
  // without an address (its name's lookup failed, or a DNS-only endpoint)
  // counts in every one: DNS stops both.
  std::vector<std::string> measured_families{vocab::kFamilyIpv4};
  bool ipv6 = std::any_of(m.endpoints.begin(), m.endpoints.end(),
                          [](const format::PlannedEndpoint& e) { return e.family == vocab::kFamilyIpv6; });
  if (auto it = keys.find("x_ipv6"); it != keys.end() && it->is_object())
    ipv6 = ipv6 || it->value("usable", json()) == json(true);
  if (ipv6) measured_families.push_back(vocab::kFamilyIpv6);

  for (const auto& ep : m.endpoints) {
    rules::EndpointVerdict v = judge_endpoint(m, ep, policy);
    if (v.status != vocab::kOk) add_capture_evidence(keys, ep, v.evidence);
    json e{{"endpoint", ep.endpoint},
           {"ip", ep.ip ? json(*ep.ip) : json(nullptr)},
           {"family", ep.family.empty() ? json(nullptr) : json(ep.family)},
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
    f.all.add(v);
    if (!ep.family.empty()) f.family[ep.family].add(v);
    else
      for (const auto& fam : measured_families) f.family[fam].add(v);
  }

  // Each feature is judged per family by its rule, then the families are
  // combined (combine_families): blocked over one and accessible over the
  // other is partially_blocked. The service's status per family likewise.
  json feature_json = json::object();
  FeatureCounts counts;
  std::map<std::string, FeatureCounts> family_counts;
  std::set<std::string> methods;
  auto count = [](FeatureCounts& c, const std::string& status) {
    if (status == vocab::kAccessible) ++c.accessible;
    else if (status == vocab::kBlocked) ++c.blocked;
    else if (status == vocab::kPartiallyBlocked) ++c.partially_blocked;
    else if (status == vocab::kDown) ++c.down;
    else ++c.inconclusive;
  };
  for (auto& [name, f] : features) {
    if (f.all.total() == 0) continue;
    std::string status;
    std::set<std::string> fmethods;
    json families = json::object();
    for (const auto& [fam, t] : f.family) {
      if (t.total() == 0) continue;
      const std::string s = rule_status(t, f.rule, canary_ok);
      families[fam] = s;
      count(family_counts[fam], s);
      status = combine_families(status, s);
      if (s == vocab::kBlocked) fmethods.insert(t.methods.begin(), t.methods.end());
    }
    json fm = json::array();
    if (status == vocab::kBlocked || status == vocab::kPartiallyBlocked) {
      fm = sorted(fmethods);
      methods.insert(fmethods.begin(), fmethods.end());
    }
    const Tally& t = f.all;
    feature_json[name] = {{"status", status},
                          {"methods", fm},
                          {"families", families},
                          {"endpoints", {{"ok", t.ok}, {"blocked", t.blocked}, {"down", t.down}, {"inconclusive", t.inconclusive}}}};
    count(counts, status);
  }

  const std::string status = service_status(counts, canary_ok);
  json service_families = json::object();
  for (const auto& [fam, c] : family_counts) service_families[fam] = service_status(c, canary_ok);

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
              {"families", service_families},
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
