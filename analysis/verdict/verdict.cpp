// Verdict from raw observations. See verdict.h for the contract.
#include "analysis/verdict/verdict.h"

#include <algorithm>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "analysis/verdict/ip_networks.h"

namespace vantage::analysis {
namespace {

using nlohmann::json;

std::string str(const json& j, const char* key) {
  auto it = j.find(key);
  return (it != j.end() && it->is_string()) ? it->get<std::string>() : std::string();
}

// Integers only: a float (e.g. 1e300 from a misbehaving control) would be
// undefined behaviour to convert.
int64_t integer(const json& j, const char* key, int64_t fallback = 0) {
  auto it = j.find(key);
  if (it == j.end()) return fallback;
  if (it->is_number_integer()) return it->get<int64_t>();
  return fallback;
}

bool boolean(const json& j, const char* key, bool fallback) {
  auto it = j.find(key);
  return (it != j.end() && it->is_boolean()) ? it->get<bool>() : fallback;
}

const json& array_or_empty(const json& j, const char* key) {
  static const json empty = json::array();
  auto it = j.find(key);
  return (it != j.end() && it->is_array()) ? *it : empty;
}

// Observations of one transaction, by array name. A negative id means "no
// transaction": it must not match observations that lack an id (which
// integer() also reads as -1).
std::vector<const json*> by_transaction(const json& keys, const char* array, int64_t tx) {
  std::vector<const json*> out;
  if (tx < 0) return out;
  for (const auto& o : array_or_empty(keys, array))
    if (o.is_object() && integer(o, "transaction_id", -1) == tx) out.push_back(&o);
  return out;
}

std::string failure_of(const json& o) {
  if (o.contains("status") && o["status"].is_object()) return str(o["status"], "failure");
  return str(o, "failure");
}

// Whether the chain's last step is on record as a success. Without this, a
// plan whose observations are missing or malformed would read as "ok".
bool final_step_succeeded(const json& keys, const std::string& chain, int64_t tx) {
  auto null_failure = [](const json& o) { return o.contains("failure") && o["failure"].is_null(); };
  if (chain == "tcp") {
    for (const json* o : by_transaction(keys, "tcp_connect", tx))
      if (o->contains("status") && (*o)["status"].is_object() && boolean((*o)["status"], "success", false)) return true;
    return false;
  }
  if (chain == "tls") {
    for (const json* o : by_transaction(keys, "tls_handshakes", tx))
      if (null_failure(*o)) return true;
    return false;
  }
  if (chain == "http" || chain == "https") {
    auto requests = by_transaction(keys, "requests", tx);
    return !requests.empty() && null_failure(*requests.back()) && requests.back()->contains("response") &&
           (*requests.back())["response"].is_object();
  }
  return false;  // unknown chain: the plan itself is malformed
}

struct UdpResponse {
  std::vector<std::string> ips;  // sorted
  int64_t ip_ttl = -1;
};

// The responses recorded for one hold-on UDP query, in arrival order.
std::vector<UdpResponse> udp_responses(const json& keys, int64_t tx) {
  std::vector<UdpResponse> out;
  if (tx < 0) return out;
  for (const json* q : by_transaction(keys, "queries", tx)) {
    if (str(*q, "engine") != "udp" || !str(*q, "failure").empty()) continue;
    UdpResponse r;
    for (const auto& a : array_or_empty(*q, "answers")) {
      if (!a.is_object()) continue;
      if (a.contains("ipv4")) r.ips.push_back(str(a, "ipv4"));
      if (a.contains("ipv6")) r.ips.push_back(str(a, "ipv6"));
    }
    std::sort(r.ips.begin(), r.ips.end());
    r.ip_ttl = integer(*q, "x_ip_ttl", -1);
    out.push_back(std::move(r));
  }
  return out;
}

struct EndpointVerdict {
  std::string status = "inconclusive";
  std::string method;
  std::string failure;
  std::vector<std::string> evidence;
};

bool is_dns_blocking_failure(const std::string& f) {
  static const std::set<std::string> dns = {
      "dns_nxdomain_error", "dns_refused_error",     "dns_servfail_error",         "dns_no_answer",
      "dns_bogon_error",    "dns_temporary_failure", "dns_non_recoverable_failure", "dns_server_misbehaving",
      "generic_timeout_error"};
  return dns.count(f) > 0;
}

// What the control vantage point saw for one endpoint (x_control.answers[key]).
struct ControlView {
  bool present = false;
  json answer;
  std::vector<std::string> dns_addrs() const {
    std::vector<std::string> out;
    if (!present || !answer.contains("dns") || !answer["dns"].is_object()) return out;
    for (const auto& a : array_or_empty(answer["dns"], "addrs"))
      if (a.is_string()) out.push_back(a);
    return out;
  }
  bool dns_failed() const {
    return present && answer.contains("dns") && answer["dns"].is_object() && !str(answer["dns"], "failure").empty();
  }
  // Tri-state: 1 ok, 0 failed, -1 not measured.
  int tcp(const std::string& addr) const {
    if (!present || !answer.contains("tcp_connect") || !answer["tcp_connect"].is_object()) return -1;
    const auto& t = answer["tcp_connect"];
    if (!t.contains(addr)) return -1;
    return boolean(t[addr], "status", false) ? 1 : 0;
  }
  int tls(const std::string& addr) const {
    if (!present || !answer.contains("tls_handshake") || !answer["tls_handshake"].is_object()) return -1;
    const auto& t = answer["tls_handshake"];
    if (!t.contains(addr)) return -1;
    return boolean(t[addr], "status", false) ? 1 : 0;
  }
  bool http_failed() const {
    if (!present || !answer.contains("http_request") || !answer["http_request"].is_object()) return false;
    return !str(answer["http_request"], "failure").empty();
  }
  int64_t http_status() const {
    if (!present || !answer.contains("http_request") || !answer["http_request"].is_object()) return -1;
    return integer(answer["http_request"], "status_code", -1);
  }
};

EndpointVerdict judge_endpoint(const json& keys, const json& ep, bool canary_ok, double canary_kbps,
                               const VerdictPolicy& policy) {
  EndpointVerdict v;
  const std::string key = str(ep, "endpoint");
  const std::string ip = str(ep, "ip");
  const int64_t port = integer(ep, "port");
  const std::string addr = ip.find(':') != std::string::npos ? "[" + ip + "]:" + std::to_string(port)
                                                             : ip + ":" + std::to_string(port);
  ControlView control;
  if (keys.contains("x_control") && keys["x_control"].is_object() && keys["x_control"].contains("answers") &&
      keys["x_control"]["answers"].is_object() && keys["x_control"]["answers"].contains(key)) {
    // A failed control query ({"failure": ...}) is no evidence at all.
    const json& answer = keys["x_control"]["answers"][key];
    control.present = answer.is_object() && !(answer.contains("failure") && answer["failure"].is_string());
    if (control.present) control.answer = answer;
  }
  std::vector<std::string> prefixes;
  if (keys.contains("x_networks") && keys["x_networks"].is_object())
    for (const auto& p : array_or_empty(keys["x_networks"], "prefixes"))
      if (p.is_string()) prefixes.push_back(p);

  auto blame = [&](const std::string& method, const std::string& failure, const std::string& why) {
    v.failure = failure;
    v.evidence.push_back(why);
    if (!canary_ok) {
      v.status = "inconclusive";
      v.evidence.push_back("the probe's own network failed its canary");
      return;
    }
    v.status = "blocked";
    v.method = method;
  };
  auto down = [&](const std::string& failure, const std::string& why) {
    v.status = "down";
    v.failure = failure;
    v.evidence.push_back(why);
  };

  if (str(ep, "failure") == "interrupted") {
    v.failure = "interrupted";
    v.evidence.push_back("not measured: the run was interrupted or hit its deadline");
    return v;
  }

  // DNS step (shared per host).
  const int64_t dns_tx = integer(ep, "dns_transaction_id", -1);
  std::string dns_failure;
  std::vector<std::string> answers;
  for (const json* q : by_transaction(keys, "queries", dns_tx)) {
    if (str(*q, "engine") != "getaddrinfo") continue;
    dns_failure = str(*q, "failure");
    for (const auto& a : array_or_empty(*q, "answers")) {
      if (a.contains("ipv4")) answers.push_back(str(a, "ipv4"));
      if (a.contains("ipv6")) answers.push_back(str(a, "ipv6"));
    }
  }
  if (!dns_failure.empty()) {
    if (control.dns_failed()) {
      down(dns_failure, "DNS lookup failed (" + dns_failure + ") and the control's lookup failed too");
    } else if (is_dns_blocking_failure(dns_failure)) {
      std::string why = "DNS lookup failed: " + dns_failure;
      if (control.present) why += "; the control resolved it";
      blame("dns", dns_failure, why);
    } else {
      // Not an answer from the network (e.g. too_many_open_files): the
      // probe's own trouble, not the resolver's.
      v.failure = dns_failure;
      v.evidence.push_back("DNS lookup failed locally: " + dns_failure);
    }
    return v;
  }
  // Several differing responses to the one UDP query: an answer was injected
  // on the path. An address is suspect unless the last response (the
  // resolver's, which arrives after the forgery) also gave it.
  const auto udp = udp_responses(keys, integer(ep, "dns_udp_transaction_id", -1));
  bool raced = false;
  if (udp.size() >= 2) {
    std::set<std::vector<std::string>> distinct;
    std::string summary;
    for (const auto& r : udp) {
      distinct.insert(r.ips);
      std::string ips;
      for (const auto& a : r.ips) ips += (ips.empty() ? "" : ",") + a;
      summary += (summary.empty() ? "" : "; ") + (ips.empty() ? std::string("no answer") : ips) +
                 (r.ip_ttl >= 0 ? " (IP TTL " + std::to_string(r.ip_ttl) + ")" : "");
    }
    if (distinct.size() >= 2) {
      raced = true;
      v.evidence.push_back(std::to_string(udp.size()) + " different DNS responses to one query: " + summary);
    }
  }
  auto injected_address = [&](const std::string& a) {
    if (!raced || a.empty()) return false;
    const auto& last = udp.back().ips;
    return std::find(last.begin(), last.end(), a) == last.end();
  };
  auto outside_networks = [&](const std::string& a) {
    return !a.empty() && !prefixes.empty() && !in_any_prefix(a, prefixes);
  };

  if (str(ep, "chain") == "dns") {
    // Nothing is connected to: the answer is all there is to judge, on the
    // same evidence as the other endpoints' (measured family: IPv4).
    std::vector<std::string> v4;
    for (const auto& a : answers)
      if (a.find(':') == std::string::npos && !a.empty()) v4.push_back(a);
    const auto control_addrs = control.dns_addrs();
    auto control_gave = [&](const std::string& a) {
      return std::find(control_addrs.begin(), control_addrs.end(), a) != control_addrs.end();
    };
    std::string bogon, injected, outside;
    int outside_count = 0;
    for (const auto& a : v4) {
      if (is_bogon(a) && bogon.empty()) bogon = a;
      if (injected_address(a) && injected.empty()) injected = a;
      if (outside_networks(a) && !control_gave(a)) {
        ++outside_count;
        if (outside.empty()) outside = a;
      }
    }
    if (!bogon.empty()) return blame("dns", "dns_bogon_error", "DNS answer " + bogon + " is a bogon"), v;
    if (!injected.empty())
      return blame("dns", "", "DNS answer " + injected + " raced the resolver's own response, which did not give it"), v;
    // Every answer outside the known networks (one known answer among CDN
    // spread is enough to call it genuine), and not what the control got.
    if (!v4.empty() && outside_count == static_cast<int>(v4.size()))
      return blame("dns", "", "DNS answer " + outside + " is outside the service's known networks"), v;
    v.status = "ok";
    return v;
  }
  bool outside = outside_networks(ip);
  if (outside) v.evidence.push_back("DNS answer " + ip + " is outside the service's known networks");
  const bool injected = injected_address(ip);
  const auto control_addrs = control.dns_addrs();
  bool control_disagrees = !ip.empty() && control.present && !control.dns_failed() && !control_addrs.empty() &&
                           std::find(control_addrs.begin(), control_addrs.end(), ip) == control_addrs.end();
  // Evidence only: CDNs answer differently by region, so a control far away
  // disagreeing is not by itself DNS manipulation.
  if (control_disagrees) v.evidence.push_back("the control's DNS did not return " + ip);
  const bool suspect_answer = outside || injected;

  // The chain's final attempt.
  const int64_t tx = integer(ep, "transaction_id", -1);
  std::string failed_step, failure;
  for (const json* o : by_transaction(keys, "tcp_connect", tx))
    if (!failure_of(*o).empty()) failed_step = "tcp", failure = failure_of(*o);
  if (failed_step.empty())
    for (const json* o : by_transaction(keys, "tls_handshakes", tx))
      if (!failure_of(*o).empty()) failed_step = "tls", failure = failure_of(*o);
  const json* request = nullptr;
  for (const json* o : by_transaction(keys, "requests", tx)) request = o;
  if (failed_step.empty() && request && !failure_of(*request).empty()) failed_step = "http", failure = failure_of(*request);
  if (failed_step.empty() && (tx < 0 || !final_step_succeeded(keys, str(ep, "chain"), tx))) {
    v.evidence.push_back("no complete observation recorded for this endpoint");
    return v;
  }

  if (!failed_step.empty()) {
    const int64_t attempts = integer(ep, "attempts", 1);
    std::string retry = attempts > 1 ? " (after " + std::to_string(attempts) + " attempts)" : "";
    if (suspect_answer) {
      blame("dns", failure, str(ep, "chain") + " step failed (" + failure + ") at an address the DNS should not have given" + retry);
      return v;
    }
    int control_tcp = control.tcp(addr);
    if (failed_step == "tcp") {
      if (control_tcp == 0) return down(failure, "TCP connect to " + addr + " failed (" + failure + ") and from the control too"), v;
      blame("tcp_ip", failure, "TCP connect to " + addr + " failed: " + failure + retry);
      return v;
    }
    if (failed_step == "tls") {
      if (control.tls(addr) == 0 || control_tcp == 0)
        return down(failure, "TLS handshake with " + addr + " failed (" + failure + ") and from the control too"), v;
      blame("tls", failure, "TLS handshake with " + addr + " (SNI " + str(ep, "host") + ") failed: " + failure + retry);
      return v;
    }
    if (control.http_failed() || control_tcp == 0)
      return down(failure, "HTTP request failed (" + failure + ") and from the control too"), v;
    // Timed out while the body was still coming, slowly: a policer holding
    // the flow down, judged on the bytes and time received so far.
    if (double kbps = request ? partial_transfer_kbps(*request, policy) : -1; kbps >= 0) {
      v.evidence.push_back("body still flowing at " + std::to_string(static_cast<int64_t>(kbps)) +
                           " kbit/s when the request timed out" +
                           (canary_kbps > 0 ? ", canary " + std::to_string(static_cast<int64_t>(canary_kbps)) + " kbit/s" : ""));
      if (canary_kbps > 0 && kbps < policy.throttling_ratio * canary_kbps && kbps < policy.throttling_max_kbps) {
        blame("throttling", failure, "throughput far below the probe's own link");
        return v;
      }
    }
    blame("http", failure, "HTTP request to " + addr + " failed: " + failure + retry);
    return v;
  }

  // Every step succeeded: look at what came back.
  if (request) {
    int64_t code = request->contains("response") ? integer((*request)["response"], "code", 0) : 0;
    int64_t control_code = control.http_status();
    if (control_code > 0 && code > 0 && code != control_code && boolean(ep, "compare_status", true)) {
      blame("http", "http_unexpected_status_code",
            "HTTP status " + std::to_string(code) + " while the control got " + std::to_string(control_code));
      return v;
    }
    // Throughput endpoints always give a sample; any other endpoint whose
    // body was cut by the time-bounded sample while still flowing does too.
    const bool sampled = boolean(ep, "throughput", false);
    if (sampled || partial_transfer_kbps(*request, policy) >= 0) {
      double kbps = sampled ? request_throughput_kbps(*request, policy) : partial_transfer_kbps(*request, policy);
      if (kbps >= 0) {
        v.evidence.push_back("throughput " + std::to_string(static_cast<int64_t>(kbps)) + " kbit/s" +
                             (canary_kbps > 0 ? ", canary " + std::to_string(static_cast<int64_t>(canary_kbps)) + " kbit/s" : ""));
        if (canary_kbps > 0 && kbps < policy.throttling_ratio * canary_kbps && kbps < policy.throttling_max_kbps) {
          blame("throttling", "", "throughput far below the probe's own link");
          return v;
        }
      }
    }
  }
  v.status = "ok";
  return v;
}

std::vector<std::string> sorted(const std::set<std::string>& s) { return {s.begin(), s.end()}; }

// Packet-level evidence (test_keys.x_capture.anomalies) about this endpoint
// or its name, e.g. "capture: tcp_rst_injected (rst_ttl=64, synack_ttl=57)".
// Evidence only: packet anomalies alone are not verdicts.
void add_capture_evidence(const json& keys, const json& ep, std::vector<std::string>& evidence) {
  if (!keys.contains("x_capture") || !keys["x_capture"].is_object()) return;
  const std::string key = str(ep, "endpoint"), host = str(ep, "host");
  int shown = 0, more = 0;
  for (const auto& a : array_or_empty(keys["x_capture"], "anomalies")) {
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

double request_throughput_kbps(const json& request, const VerdictPolicy& policy) {
  if (!request.is_object() || !str(request, "failure").empty() || !request.contains("response")) return -1;
  const auto& r = request["response"];
  if (!r.is_object()) return -1;
  double bytes = r.contains("x_body_bytes") && r["x_body_bytes"].is_number() ? r["x_body_bytes"].get<double>() : 0;
  double secs = r.contains("x_download_seconds") && r["x_download_seconds"].is_number()
                    ? r["x_download_seconds"].get<double>()
                    : 0;
  if (bytes < policy.throughput_min_bytes || secs <= 0) return -1;
  return bytes * 8 / secs / 1000;
}

std::string service_status(const FeatureCounts& c, bool canary_ok) {
  const bool a = c.accessible > 0, b = c.blocked > 0, d = c.down > 0, i = c.inconclusive > 0;
  if (!canary_ok || !(a || b || d || i)) return "inconclusive";
  if (b) return (a || d || i) ? "partially_blocked" : "blocked";
  if (i) return "inconclusive";
  // Every failing feature is down for the control too: an outage, even when
  // other features (typically DNS-only ones) still work.
  if (d) return "down";
  return "accessible";
}

double partial_transfer_kbps(const json& request, const VerdictPolicy& policy) {
  if (!request.is_object() || !request.contains("response") || !request["response"].is_object()) return -1;
  const auto& r = request["response"];
  const std::string failure = str(request, "failure");
  // Ended early: timed out, or the sample ended with the body cut short.
  const bool timed_out = failure == "generic_timeout_error";
  const bool cut = failure.empty() && boolean(r, "body_is_truncated", false) && str(r, "x_download_stopped") == "window";
  if (!timed_out && !cut) return -1;
  auto number = [&](const char* key) { return r.contains(key) && r[key].is_number() ? r[key].get<double>() : -1.0; };
  const double bytes = number("x_body_bytes"), secs = number("x_download_seconds"), stall = number("x_body_stall_seconds");
  if (bytes < policy.throughput_min_bytes || secs <= 0 || stall < 0 || stall > policy.flowing_max_stall_seconds) return -1;
  return bytes * 8 / secs / 1000;
}

json compute_verdict(const json& keys_in, const VerdictPolicy& policy) {
  const json& keys = keys_in.is_object() ? keys_in : json::object();
  bool canary_ok = true;
  double canary_kbps = -1;
  if (keys.contains("x_canary") && keys["x_canary"].is_object()) {
    canary_ok = str(keys["x_canary"], "status") != "failed";
    if (keys["x_canary"].contains("throughput_kbps") && keys["x_canary"]["throughput_kbps"].is_number())
      canary_kbps = keys["x_canary"]["throughput_kbps"].get<double>();
  }

  json endpoints = json::array();
  struct FeatureTally {
    std::string rule = "all";
    int ok = 0, blocked = 0, down = 0, inconclusive = 0;
    std::set<std::string> methods;
  };
  std::map<std::string, FeatureTally> features;
  if (keys.contains("x_features") && keys["x_features"].is_object())
    for (auto it = keys["x_features"].begin(); it != keys["x_features"].end(); ++it)
      if (it.value().is_object() && boolean(it.value(), "judged", true)) features[it.key()].rule = str(it.value(), "rule");

  for (const auto& ep : array_or_empty(keys, "x_endpoints")) {
    if (!ep.is_object()) continue;
    EndpointVerdict v = judge_endpoint(keys, ep, canary_ok, canary_kbps, policy);
    if (v.status != "ok") add_capture_evidence(keys, ep, v.evidence);
    json e{{"endpoint", str(ep, "endpoint")},
           {"ip", ep.contains("ip") ? ep["ip"] : json(nullptr)},
           {"feature", str(ep, "feature")},
           {"status", v.status},
           {"method", v.method.empty() ? json(nullptr) : json(v.method)},
           {"failure", v.failure.empty() ? json(nullptr) : json(v.failure)},
           {"evidence", v.evidence}};
    if (!boolean(ep, "judged", true)) {
      e["judged"] = false;
      endpoints.push_back(e);
      continue;
    }
    endpoints.push_back(e);
    auto fit = features.find(str(ep, "feature"));
    if (fit == features.end()) continue;  // feature not judged
    FeatureTally& f = fit->second;
    if (v.status == "ok") ++f.ok;
    else if (v.status == "blocked") ++f.blocked, f.methods.insert(v.method);
    else if (v.status == "down") ++f.down;
    else ++f.inconclusive;
  }

  json feature_json = json::object();
  int acc = 0, blk = 0, dwn = 0, inc = 0;
  std::set<std::string> methods;
  for (auto& [name, f] : features) {
    int total = f.ok + f.blocked + f.down + f.inconclusive;
    if (total == 0) continue;
    std::string status;
    if (!canary_ok) status = "inconclusive";
    else if (f.rule == "any") {
      if (f.ok > 0) status = "accessible";
      else if (f.blocked > 0) status = "blocked";
      else if (f.down > 0 && f.inconclusive == 0) status = "down";
      else status = "inconclusive";
    } else {
      if (f.blocked > 0) status = "blocked";
      else if (f.ok == total) status = "accessible";
      else if (f.inconclusive > 0) status = "inconclusive";
      else status = "down";
    }
    json fm = json::array();
    if (status == "blocked") {
      fm = sorted(f.methods);
      methods.insert(f.methods.begin(), f.methods.end());
    }
    feature_json[name] = {{"status", status},
                          {"methods", fm},
                          {"endpoints", {{"ok", f.ok}, {"blocked", f.blocked}, {"down", f.down}, {"inconclusive", f.inconclusive}}}};
    if (status == "accessible") ++acc;
    else if (status == "blocked") ++blk;
    else if (status == "down") ++dwn;
    else ++inc;
  }

  const std::string status = service_status({acc, blk, dwn, inc}, canary_ok);

  // "Cross-checked" only when the control actually answered something.
  bool control_used = false;
  if (keys.contains("x_control") && keys["x_control"].is_object() && keys["x_control"].contains("answers") &&
      keys["x_control"]["answers"].is_object())
    for (const auto& a : keys["x_control"]["answers"])
      control_used = control_used || (a.is_object() && !(a.contains("failure") && a["failure"].is_string()));
  std::string unreachable;
  if (keys.contains("x_control") && keys["x_control"].is_object()) unreachable = str(keys["x_control"], "unreachable");
  std::string confidence = !canary_ok ? "low" : control_used ? "high" : "medium";
  return json{{"status", status},
              {"methods", sorted(methods)},
              {"features", feature_json},
              {"endpoints", endpoints},
              {"canary", canary_ok ? "ok" : "failed"},
              {"confidence", confidence},
              {"confidence_reason", !canary_ok ? "the probe's own network failed its canary"
                                    : control_used ? "failures were cross-checked with the control vantage point"
                                    : !unreachable.empty()
                                        ? "the control vantage point could not be reached (" + unreachable +
                                              "): an outage would look like blocking"
                                        : "no control vantage point: an outage would look like blocking"}};
}

}  // namespace vantage::analysis
