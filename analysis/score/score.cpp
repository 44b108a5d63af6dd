// Scoring Vantage's and OONI's measurements. See score.h for the contract.
#include "analysis/score/score.h"

#include <algorithm>
#include <array>
#include <set>

#include "analysis/verdict/verdict.h"

namespace vantage::analysis {
namespace {

using nlohmann::json;

std::string str(const json& j, const char* key) {
  if (!j.is_object()) return {};
  auto it = j.find(key);
  return (it != j.end() && it->is_string()) ? it->get<std::string>() : std::string();
}

const json& arr(const json& j, const char* key) {
  static const json empty = json::array();
  if (!j.is_object()) return empty;
  auto it = j.find(key);
  return (it != j.end() && it->is_array()) ? *it : empty;
}

// -1 = missing or not a boolean.
int tri(const json& j, const char* key) {
  if (!j.is_object()) return -1;
  auto it = j.find(key);
  if (it == j.end() || !it->is_boolean()) return -1;
  return it->get<bool>() ? 1 : 0;
}

// "0.2.5" -> {0,2,5}; missing parts are 0, garbage is 0.
std::array<int, 3> version(const std::string& v) {
  std::array<int, 3> out{0, 0, 0};
  std::size_t i = 0;
  for (int part = 0; part < 3 && i < v.size(); ++part) {
    int n = 0;
    while (i < v.size() && v[i] >= '0' && v[i] <= '9' && n < 100000) n = n * 10 + (v[i++] - '0');
    out[part] = n;
    while (i < v.size() && v[i] != '.') ++i;
    ++i;
  }
  return out;
}

std::string major_minor(const std::string& v) {
  auto n = version(v);
  return std::to_string(n[0]) + "." + std::to_string(n[1]);
}

// The URL's host, lowercased, without port.
std::string url_host(const std::string& url) {
  auto start = url.find("://");
  if (start == std::string::npos) return {};
  start += 3;
  auto end = url.find_first_of(":/?#", start);
  std::string host = url.substr(start, end == std::string::npos ? std::string::npos : end - start);
  std::transform(host.begin(), host.end(), host.begin(), [](unsigned char c) { return std::tolower(c); });
  return host;
}

std::string url_scheme(const std::string& url) {
  auto end = url.find("://");
  return end == std::string::npos ? std::string() : url.substr(0, end);
}

std::string request_url(const json& r) {
  return r.is_object() && r.contains("request") ? str(r["request"], "url") : std::string();
}

bool request_ok(const json& r) {
  return r.is_object() && r.contains("failure") && r["failure"].is_null() && r.contains("response") &&
         r["response"].is_object();
}

std::string failure_of(const json& o) {
  if (o.is_object() && o.contains("status") && o["status"].is_object()) return str(o["status"], "failure");
  return str(o, "failure");
}

// The step that failed in transaction `tx`, from the sub-formats that
// carry transaction ids (OONI's newer engines); "" when unknown.
std::string failed_step(const json& tk, const json& request) {
  if (!request.is_object() || !request.contains("transaction_id") || !request["transaction_id"].is_number_integer())
    return "";
  const auto tx = request["transaction_id"].get<int64_t>();
  auto same_tx = [&](const json& o) {
    return o.is_object() && o.contains("transaction_id") && o["transaction_id"].is_number_integer() &&
           o["transaction_id"].get<int64_t>() == tx;
  };
  for (const auto& o : arr(tk, "tcp_connect"))
    if (same_tx(o) && !failure_of(o).empty()) return "connect";
  for (const auto& o : arr(tk, "tls_handshakes"))
    if (same_tx(o) && !failure_of(o).empty()) return "tls_handshake";
  return "";
}

bool in_day_range(const std::string& day, const char* from, const char* to) {
  return !day.empty() && day >= from && (to == nullptr || day <= to);
}

struct Builder {
  Score s;
  std::set<std::string> traps;
  void feature(const std::string& name, const std::string& status, std::set<std::string> methods = {}) {
    FeatureScore f;
    f.status = status;
    if (status == "blocked") f.methods.assign(methods.begin(), methods.end());
    s.features[name] = std::move(f);
  }
  void trap(const std::string& name, const std::string& note) {
    if (traps.insert(name).second) s.notes.push_back(note);
  }
  Score done(const std::string& base_rule) {
    s.verdict = combine_features(s.features);
    std::set<std::string> m;
    for (const auto& [_, f] : s.features)
      if (f.status == "blocked" || f.status == "partially_blocked") m.insert(f.methods.begin(), f.methods.end());
    s.methods.assign(m.begin(), m.end());
    s.scoring_rule = base_rule;
    for (const auto& t : traps) s.scoring_rule += "+" + t;
    return s;
  }
};

// A feature judged from HTTP requests: accessible when any reached the
// server, blocked (with the methods of the failures) when all failed.
// `accept` selects the requests. Returns false when none matched.
template <typename Pred>
bool judge_requests(Builder& b, const json& tk, const std::string& feature, Pred accept) {
  bool any = false, ok = false;
  std::set<std::string> methods;
  for (const auto& r : arr(tk, "requests")) {
    if (!accept(r)) continue;
    any = true;
    if (request_ok(r)) ok = true;
    else if (!failure_of(r).empty()) methods.insert(method_of_failure(failure_of(r), failed_step(tk, r)));
  }
  if (!any) return false;
  if (ok) b.feature(feature, "accessible");
  else if (!methods.empty()) b.feature(feature, "blocked", methods);
  else b.feature(feature, "inconclusive");  // requests without outcome
  return true;
}

// A feature from an OONI status/failure key pair ("ok"/"blocked").
bool judge_status_key(Builder& b, const json& tk, const std::string& feature, const char* status_key,
                      const char* failure_key, const std::string& step) {
  std::string status = str(tk, status_key);
  if (status == "ok") b.feature(feature, "accessible");
  else if (status == "blocked") {
    std::string failure = str(tk, failure_key);
    if (failure.empty()) b.feature(feature, "inconclusive");  // blocked with no failure: a status-code judgement
    else b.feature(feature, "blocked", {method_of_failure(failure, step)});
  } else return false;
  return true;
}

// ---- WhatsApp (ts-018) -------------------------------------------------

Score score_whatsapp(const json& m, const json& tk, const std::string& day) {
  Builder b;
  const std::string v = str(m, "test_version");
  bool raw = false;

  // Web. A response over plain http:// (WhatsApp answers 403 there) means
  // the server was reached; only a failure is evidence of blocking.
  bool http_403 = false;
  for (const auto& r : arr(tk, "requests"))
    if (url_host(request_url(r)) == "web.whatsapp.com" && url_scheme(request_url(r)) == "http" && request_ok(r) &&
        r["response"].value("code", 0) == 403)
      http_403 = true;
  if (judge_requests(b, tk, "web", [](const json& r) { return url_host(request_url(r)) == "web.whatsapp.com"; })) {
    raw = true;
    if (http_403)
      b.trap("whatsapp-web-http-403",
             "http://web.whatsapp.com answered 403: the server was reached, judged accessible (not OONI's status code rule)");
  } else if (judge_status_key(b, tk, "web", "whatsapp_web_status", "whatsapp_web_failure", "")) {
    if (b.s.features["web"].status == "inconclusive")
      b.trap("whatsapp-web-http-403",
             "whatsapp_web_status blocked without a failure (a status-code judgement, e.g. the 403 of http://web.whatsapp.com): not counted as blocking");
  }

  // Registration: status code ignored, as ts-018 says.
  if (judge_requests(b, tk, "registration",
                     [](const json& r) { return url_host(request_url(r)) == "v.whatsapp.net"; }))
    raw = true;
  else
    judge_status_key(b, tk, "registration", "registration_server_status", "registration_server_failure", "");

  // Messaging: one endpoint connecting is enough (the client falls back).
  const auto& tcp = arr(tk, "tcp_connect");
  if (!tcp.empty()) {
    raw = true;
    const bool outage = in_day_range(day, "2026-01-01", "2026-01-31");
    int ok = 0, failed = 0, ignored = 0;
    std::set<std::string> methods;
    for (const auto& c : tcp) {
      if (!c.is_object()) continue;
      const bool success = c.contains("status") && c["status"].is_object() && c["status"].value("success", false);
      if (outage && c.value("port", 0) == 5222 && !success) {
        ++ignored;
        continue;
      }
      if (success) ++ok;
      else ++failed, methods.insert("tcp_ip");
    }
    if (ignored > 0)
      b.trap("whatsapp-5222-outage-2026-01",
             "January 2026: WhatsApp's servers refused port 5222 worldwide; " + std::to_string(ignored) +
                 " failed :5222 connects are not counted as blocking");
    if (!arr(tk, "whatsapp_endpoints_dns_inconsistent").empty()) methods.insert("dns");
    if (ok > 0) b.feature("messaging", "accessible");
    else if (failed > 0) b.feature("messaging", "blocked", methods);
    else b.feature("messaging", "inconclusive");
  } else {
    bool dns_failed = false, dns_any = false;
    for (const auto& q : arr(tk, "queries")) {
      std::string h = str(q, "hostname");
      if (h.size() > 13 && h.compare(h.size() - 13, 13, ".whatsapp.net") == 0 && h != "v.whatsapp.net") {
        dns_any = true;
        dns_failed = dns_failed || !str(q, "failure").empty();
      }
    }
    if (dns_any && dns_failed) raw = true, b.feature("messaging", "blocked", {"dns"});
    else if (str(tk, "whatsapp_endpoints_status") == "ok") b.feature("messaging", "accessible");
    else if (str(tk, "whatsapp_endpoints_status") == "blocked")
      b.feature("messaging", "blocked", {arr(tk, "whatsapp_endpoints_dns_inconsistent").empty() ? "tcp_ip" : "dns"});
  }
  return b.done("ooni-whatsapp-" + major_minor(v) + (raw ? "-raw" : "-keys"));
}

// ---- Signal (ts-029) ---------------------------------------------------

std::string signal_feature(const std::string& host) {
  if (host == "chat.signal.org" || host == "textsecure-service.whispersystems.org") return "messaging";
  if (host == "cdsi.signal.org" || host == "api.directory.signal.org") return "contacts";
  if (host == "sfu.voip.signal.org") return "calls";
  if (host == "storage.signal.org") return "storage";
  if (host.rfind("cdn", 0) == 0 && host.size() > 11 && host.compare(host.size() - 11, 11, ".signal.org") == 0)
    return "attachments";
  return "";
}

bool is_certificate_failure(const std::string& f) {
  return f == "ssl_unknown_authority" || f == "ssl_invalid_certificate";
}

Score score_signal(const json& m, const json& tk, const std::string& day) {
  Builder b;
  const std::string v = str(m, "test_version");
  const auto ver = version(v);
  const bool before_022 = ver < std::array<int, 3>{0, 2, 2};
  struct Tally {
    bool ok = false, failed = false, inconclusive = false;
    std::set<std::string> methods;
  };
  std::map<std::string, Tally> features;
  bool raw = false;
  for (const auto& r : arr(tk, "requests")) {
    const std::string host = url_host(request_url(r));
    const std::string feature = signal_feature(host);
    if (feature.empty()) continue;
    raw = true;
    if ((host == "textsecure-service.whispersystems.org" || host == "api.directory.signal.org") && day >= "2023-11-07") {
      b.trap("signal-retired-endpoints-2023-11",
             host + " was retired by Signal (November 2023): its failure says nothing about blocking, not judged");
      continue;
    }
    Tally& t = features[feature];
    if (request_ok(r)) {
      t.ok = true;
      continue;
    }
    const std::string failure = failure_of(r);
    if (failure.empty()) {
      t.inconclusive = true;
      continue;
    }
    if (host == "sfu.voip.signal.org" && is_certificate_failure(failure) && before_022 && day >= "2022-10-01") {
      b.trap("signal-sfu-ca-2022-10",
             "sfu.voip.signal.org changed CA in October 2022 and test_version " + v +
                 " does not know the new one: its certificate failure is not counted as blocking");
      t.inconclusive = true;
      continue;
    }
    t.failed = true;
    t.methods.insert(method_of_failure(failure, failed_step(tk, r)));
  }
  for (const auto& [name, t] : features) {
    if (t.failed) b.feature(name, "blocked", t.methods);
    else if (t.inconclusive) b.feature(name, "inconclusive");
    else if (t.ok) b.feature(name, "accessible");
  }
  if (!raw) {
    std::string failure = str(tk, "signal_backend_failure");
    if (is_certificate_failure(failure) && before_022 && day >= "2022-10-01") {
      b.trap("signal-sfu-ca-2022-10", "a certificate failure from a test_version that predates Signal's October 2022 CA change: not counted as blocking");
      b.feature("backend", "inconclusive");
    } else if (!failure.empty() && day >= "2023-11-07" && ver <= std::array<int, 3>{0, 2, 3}) {
      b.trap("signal-retired-endpoints-2023-11", "test_version " + v + " still measured endpoints Signal retired in November 2023; without raw requests the failure cannot be told apart");
      b.feature("backend", "inconclusive");
    } else {
      judge_status_key(b, tk, "backend", "signal_backend_status", "signal_backend_failure", "");
    }
  }
  return b.done("ooni-signal-" + major_minor(v) + (raw ? "-raw" : "-keys"));
}

// ---- Telegram (ts-020) -------------------------------------------------

bool is_ip_literal(const std::string& host) {
  return !host.empty() && host.find_first_not_of("0123456789.") == std::string::npos;
}

Score score_telegram(const json& m, const json& tk) {
  Builder b;
  bool raw = false;
  // Messaging: the data centres, by TCP and plain HTTP POST.
  int tcp_ok = 0, tcp_failed = 0, http_ok = 0, http_failed = 0;
  std::set<std::string> methods;
  for (const auto& c : arr(tk, "tcp_connect")) {
    if (!c.is_object()) continue;
    raw = true;
    if (c.contains("status") && c["status"].is_object() && c["status"].value("success", false)) ++tcp_ok;
    else ++tcp_failed;
  }
  for (const auto& r : arr(tk, "requests")) {
    if (!is_ip_literal(url_host(request_url(r)))) continue;
    raw = true;
    if (request_ok(r)) ++http_ok;
    else if (!failure_of(r).empty()) ++http_failed, methods.insert(method_of_failure(failure_of(r), failed_step(tk, r)));
  }
  if (tcp_ok + tcp_failed + http_ok + http_failed > 0) {
    if (tcp_ok == 0 && tcp_failed > 0) b.feature("messaging", "blocked", {"tcp_ip"});
    else if (http_ok == 0 && http_failed > 0) b.feature("messaging", "blocked", methods);
    else b.feature("messaging", "accessible");
  } else {
    const int tcp_blocking = tri(tk, "telegram_tcp_blocking"), http_blocking = tri(tk, "telegram_http_blocking");
    if (tcp_blocking == 1) b.feature("messaging", "blocked", {"tcp_ip"});
    else if (http_blocking == 1) b.feature("messaging", "blocked", {"http"});
    else if (tcp_blocking == 0 && http_blocking != -1) b.feature("messaging", "accessible");
  }
  if (judge_requests(b, tk, "web", [](const json& r) { return url_host(request_url(r)) == "web.telegram.org"; }))
    raw = true;
  else
    judge_status_key(b, tk, "web", "telegram_web_status", "telegram_web_failure", "");
  return b.done("ooni-telegram-" + major_minor(str(m, "test_version")) + (raw ? "-raw" : "-keys"));
}

// ---- Facebook Messenger (ts-019) ---------------------------------------
// Judged from the test's keys: DNS consistency needs the answers' ASN
// (AS32934), which the probe looked up and the measurement does not carry.

Score score_facebook_messenger(const json& m, const json& tk) {
  Builder b;
  const int dns = tri(tk, "facebook_dns_blocking"), tcp = tri(tk, "facebook_tcp_blocking");
  std::set<std::string> methods;
  if (dns == 1) methods.insert("dns");
  if (tcp == 1) methods.insert("tcp_ip");
  if (!methods.empty()) b.feature("messaging", "blocked", methods);
  else if (dns == 0 && tcp == 0) b.feature("messaging", "accessible");
  else if (dns == 0 || tcp == 0) b.feature("messaging", "inconclusive");
  return b.done("ooni-facebook_messenger-" + major_minor(str(m, "test_version")) + "-keys");
}

Score from_verdict(const json& v, const char* rule) {
  Score s;
  s.scoring_rule = rule;
  if (v.contains("features") && v["features"].is_object())
    for (auto it = v["features"].begin(); it != v["features"].end(); ++it) {
      FeatureScore f;
      f.status = str(it.value(), "status");
      for (const auto& mth : arr(it.value(), "methods"))
        if (mth.is_string()) f.methods.push_back(mth);
      std::sort(f.methods.begin(), f.methods.end());
      if (!f.status.empty()) s.features[it.key()] = f;
    }
  if (s.features.empty()) {
    s.verdict = "unscorable";
    s.notes.push_back("no feature could be judged from the recorded observations");
    return s;
  }
  s.verdict = str(v, "status");
  if (s.verdict.empty()) s.verdict = combine_features(s.features);
  for (const auto& mth : arr(v, "methods"))
    if (mth.is_string()) s.methods.push_back(mth);
  std::sort(s.methods.begin(), s.methods.end());
  return s;
}

Score score_vantage(const json& tk) {
  if (tk.contains("x_endpoints") && tk["x_endpoints"].is_array()) return from_verdict(compute_verdict(tk), "vantage-verdict");
  Score s = score_recorded_verdict(tk["x_verdict"]);
  s.notes.push_back("no x_endpoints: the verdict the probe recorded is used as is");
  return s;
}

}  // namespace

Score score_recorded_verdict(const json& v) { return from_verdict(v, "vantage-verdict-recorded"); }

std::string method_of_failure(const std::string& failure, const std::string& step) {
  if (step == "resolve" || step == "dns_round_trip" || failure.rfind("dns_", 0) == 0) return "dns";
  if (step == "connect") return "tcp_ip";
  if (step == "tls_handshake" || failure.rfind("ssl_", 0) == 0) return "tls";
  if (failure == "connection_refused" || failure == "host_unreachable" || failure == "network_unreachable")
    return "tcp_ip";
  return "http";
}

std::string combine_statuses(const std::vector<std::string_view>& statuses) {
  int acc = 0, blk = 0, prt = 0, dwn = 0, inc = 0, uns = 0;
  for (std::string_view status : statuses) {
    if (status == "accessible") ++acc;
    else if (status == "blocked") ++blk;
    else if (status == "partially_blocked") ++prt;  // a feature blocked over one address family only
    else if (status == "down") ++dwn;
    else if (status == "unscorable") ++uns;
    else ++inc;
  }
  if (acc + blk + prt + dwn + inc == 0) return "unscorable";
  if (prt > 0) return "partially_blocked";
  if (blk > 0) return (acc == 0 && inc == 0 && dwn == 0) ? "blocked" : "partially_blocked";
  if (inc > 0) return "inconclusive";
  if (dwn > 0 && acc == 0) return "down";
  return "accessible";
}

std::string combine_features(const std::map<std::string, FeatureScore>& features) {
  std::vector<std::string_view> statuses;
  statuses.reserve(features.size());
  for (const auto& [_, f] : features) statuses.push_back(f.status);
  return combine_statuses(statuses);
}

Score score_measurement(const json& m) {
  Score s;
  if (!m.is_object()) {
    s.notes.push_back("not a JSON object");
    s.scoring_rule = "none";
    return s;
  }
  s.service = str(m, "test_name");
  const json& tk = m.contains("test_keys") ? m["test_keys"] : json();
  if (!tk.is_object()) {
    s.notes.push_back("no test_keys");
    s.scoring_rule = "none";
    return s;
  }
  const std::string start = str(m, "measurement_start_time");
  const std::string day = start.size() >= 10 ? start.substr(0, 10) : "";
  if ((tk.contains("x_endpoints") && tk["x_endpoints"].is_array()) ||
      (tk.contains("x_verdict") && tk["x_verdict"].is_object())) {
    Score v = score_vantage(tk);
    v.service = s.service;
    return v;
  }
  Score out;
  if (s.service == "whatsapp") out = score_whatsapp(m, tk, day);
  else if (s.service == "signal") out = score_signal(m, tk, day);
  else if (s.service == "telegram") out = score_telegram(m, tk);
  else if (s.service == "facebook_messenger") out = score_facebook_messenger(m, tk);
  else {
    s.notes.push_back("no scorer for test " + (s.service.empty() ? std::string("(none)") : s.service));
    s.scoring_rule = "none";
    return s;
  }
  out.service = s.service;
  if (out.verdict == "unscorable") out.notes.push_back("none of the observations this test's rule needs were recorded");
  return out;
}

json to_x_analysis(const Score& s) {
  json features = json::object();
  for (const auto& [name, f] : s.features) features[name] = {{"status", f.status}, {"methods", f.methods}};
  return json{{"service_verdict", s.verdict}, {"methods", s.methods}, {"features", features},
              {"scoring_rule", s.scoring_rule}, {"notes", s.notes}};
}

}  // namespace vantage::analysis
