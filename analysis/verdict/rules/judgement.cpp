// The rules' shared evidence. See judgement.h.
#include "analysis/verdict/rules/judgement.h"

#include "reports/format/ip_address.h"
#include "reports/format/json_read.h"

namespace vantage::analysis::rules {

using nlohmann::json;

namespace {

const json& array_or_empty(const json& j, const char* key) {
  static const json empty = json::array();
  auto it = j.find(key);
  return (it != j.end() && it->is_array()) ? *it : empty;
}

// Whether the chain's last step is on record as a success. Without this, a
// plan whose observations are missing or malformed would read as "ok".
bool final_step_succeeded(const json& keys, const format::PlannedEndpoint& ep, int64_t tx) {
  const std::string& chain = ep.chain;
  auto null_failure = [](const json& o) { return o.contains("failure") && o["failure"].is_null(); };
  // A connect or a handshake followed by the app's exchange: the exchange
  // is the last step (an https chain's request still follows it).
  if (!ep.exchange.empty()) {
    bool answered = false;
    for (const json* o : by_transaction(keys, "x_app_exchanges", tx))
      if (null_failure(*o) && format::read_optional_integer(*o, "received_bytes").value_or(0) > 0) answered = true;
    if (!answered) return false;
    if (chain == vocab::kChainTcp || chain == vocab::kChainTls) return true;
  }
  if (chain == vocab::kChainTcp) {
    for (const json* o : by_transaction(keys, "tcp_connect", tx))
      if (o->contains("status") && (*o)["status"].is_object() && format::read_bool((*o)["status"], "success", false)) return true;
    return false;
  }
  if (chain == vocab::kChainTls) {
    for (const json* o : by_transaction(keys, "tls_handshakes", tx))
      if (null_failure(*o)) return true;
    return false;
  }
  if (chain == vocab::kChainHttp || chain == vocab::kChainHttps) {
    auto requests = by_transaction(keys, "requests", tx);
    return !requests.empty() && null_failure(*requests.back()) && requests.back()->contains("response") &&
           (*requests.back())["response"].is_object();
  }
  return false;  // unknown chain: the plan itself is malformed
}

}  // namespace

std::string str(const json& j, const char* key) { return format::read_string(j, key); }

std::vector<const json*> by_transaction(const json& keys, const char* array, int64_t tx) {
  std::vector<const json*> out;
  if (tx < 0) return out;
  for (const auto& o : array_or_empty(keys, array))
    if (o.is_object() && format::read_optional_integer(o, "transaction_id").value_or(-1) == tx) out.push_back(&o);
  return out;
}

std::string failure_of(const json& o) {
  if (o.contains("status") && o["status"].is_object()) return str(o["status"], "failure");
  return str(o, "failure");
}

Measurement Measurement::parse(const json& keys) {
  Measurement m;
  m.keys = &keys;
  auto field = [&](const char* key) -> const json& {
    static const json none;
    auto it = keys.find(key);
    return it != keys.end() ? *it : none;
  };
  m.endpoints = format::planned_endpoints_from_json(field("x_endpoints"));
  m.features = format::features_from_json(field("x_features"));
  m.networks = format::networks_from_json(field("x_networks"));
  m.canary = format::canary_from_json(field("x_canary"));
  m.control = format::control_record_from_json(field("x_control"));
  if (m.canary) {
    m.canary_ok = m.canary->status != vocab::kFailed;
    if (m.canary->throughput_kbps) m.canary_kbps = *m.canary->throughput_kbps;
  }
  return m;
}

Judgement::Judgement(const Measurement& measurement, const format::PlannedEndpoint& endpoint, const VerdictPolicy& p)
    : m(measurement), ep(endpoint), policy(p) {
  addr = ip::join_host_port(ep.ip.value_or(""), ep.port.value_or(0));
  if (m.control)
    if (auto it = m.control->answers.find(ep.endpoint); it != m.control->answers.end() && it->second.answered())
      control = &it->second;
}

void Judgement::blame(const std::string& method, const std::string& failure, const std::string& why) {
  decided = true;
  v.failure = failure;
  v.evidence.push_back(why);
  if (!m.canary_ok) {
    v.status = vocab::kInconclusive;
    v.evidence.push_back("the probe's own network failed its canary");
    return;
  }
  v.status = vocab::kBlocked;
  v.method = method;
}

void Judgement::down(const std::string& failure, const std::string& why) {
  decided = true;
  v.status = vocab::kDown;
  v.failure = failure;
  v.evidence.push_back(why);
}

void Judgement::ok() {
  decided = true;
  v.status = vocab::kOk;
}

void Judgement::undecided(const std::string& failure, const std::string& why) {
  decided = true;
  v.failure = failure;
  v.evidence.push_back(why);
}

std::vector<std::string> Judgement::control_dns_addrs() const {
  if (!control || !control->dns) return {};
  return control->dns->addrs;
}

bool Judgement::control_dns_failed() const {
  return control && control->dns && control->dns->failure && !control->dns->failure->empty();
}

int Judgement::control_tcp() const {
  if (!control || !control->tcp_connect) return -1;
  auto it = control->tcp_connect->find(addr);
  return it == control->tcp_connect->end() ? -1 : it->second.status ? 1 : 0;
}

int Judgement::control_tls() const {
  if (!control || !control->tls_handshake) return -1;
  auto it = control->tls_handshake->find(addr);
  return it == control->tls_handshake->end() ? -1 : it->second.status ? 1 : 0;
}

bool Judgement::control_http_failed() const {
  return control && control->http_request && control->http_request->failure && !control->http_request->failure->empty();
}

int64_t Judgement::control_http_status() const {
  return control && control->http_request ? control->http_request->status_code : -1;
}

std::string ChainOutcome::retry_note() const {
  return attempts > 1 ? " (after " + std::to_string(attempts) + " attempts)" : "";
}

ChainOutcome chain_outcome(const Judgement& j) {
  ChainOutcome c;
  const json& keys = *j.m.keys;
  const int64_t tx = j.ep.transaction_id.value_or(-1);
  c.attempts = j.ep.attempts.value_or(1);
  for (const json* o : by_transaction(keys, "tcp_connect", tx))
    if (!failure_of(*o).empty()) c.failed_step = vocab::kChainTcp, c.failure = failure_of(*o);
  if (c.failed_step.empty())
    for (const json* o : by_transaction(keys, "tls_handshakes", tx))
      if (!failure_of(*o).empty()) c.failed_step = vocab::kChainTls, c.failure = failure_of(*o);
  // The exchange comes before an https chain's request (which a failed
  // exchange records as stopped, with the same failure).
  if (c.failed_step.empty() && !j.ep.exchange.empty())
    for (const json* o : by_transaction(keys, "x_app_exchanges", tx))
      if (!failure_of(*o).empty()) {
        c.failed_step = vocab::kStepAppExchange, c.failure = failure_of(*o);
        c.exchange = o;
      }
  for (const json* o : by_transaction(keys, "requests", tx)) c.request = o;
  if (c.failed_step.empty() && c.request && !failure_of(*c.request).empty())
    c.failed_step = vocab::kChainHttp, c.failure = failure_of(*c.request);
  c.complete = c.failed_step.empty() && tx >= 0 && final_step_succeeded(keys, j.ep, tx);
  return c;
}

}  // namespace vantage::analysis::rules
