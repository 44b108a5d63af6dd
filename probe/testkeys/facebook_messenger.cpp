// Facebook Messenger's OONI keys (ts-019, spec 2016-10-25-001; key names as
// from OONI's test_version 0.4.0, with `_`):
//   facebook_<id>_dns_consistent  the system lookup succeeded and every
//                                 address it gave is inside the service's
//                                 known networks (AS32934's prefixes)
//   facebook_<id>_reachable       a TCP connect to <name>:443 succeeded;
//                                 null when the DNS was not consistent (OONI
//                                 connects to consistent addresses only) and
//                                 always null for stun (UDP: never connected)
//   facebook_dns_blocking         some name was not consistent
//   facebook_tcp_blocking         some name was not reachable
// Ours, beyond OONI (which stops at TCP):
//   x_facebook_<id>_tls_handshake a TLS handshake (SNI = the name, the
//                                 catalog's trust) with an address of it
//                                 succeeded; null when none was attempted
//   x_facebook_tls_blocking       some attempted name's handshakes all failed
//   x_ooni_spec                   which spec the keys above follow
// Each is null when nothing was measured for it (e.g. the run was cut short).
// <id> is OONI's identifier of the name, fixed by the spec and given in the
// catalog (an endpoint's `ooni_id`); a catalog name without one gets no OONI
// keys. A name the catalog only looks up (chain "dns": stun, UDP) is never
// connected to: no _reachable, no TLS key.
#include <map>
#include <set>
#include <string>
#include <vector>

#include "analysis/verdict/ip_networks.h"
#include "probe/testkeys/service_keys.h"
#include "reports/format/plan.h"

namespace vantage::testkeys {

using nlohmann::json;

namespace {

bool failed(const json& o) {
  if (o.contains("status") && o["status"].is_object()) return !o["status"].value("success", false);
  return o.contains("failure") && !o["failure"].is_null();
}

// true / false / null over a set of outcomes: any success wins, else a
// failure if any was observed, else nothing was measured.
json any_ok(int ok, int bad) { return ok ? json(true) : bad ? json(false) : json(nullptr); }

// Aggregate: "blocking" is true when any name is false, false when all
// measured names are true, null when none was measured.
json blocking(const std::vector<json>& values) {
  bool any_true = false;
  for (const auto& v : values) {
    if (v == json(false)) return true;
    any_true = any_true || v == json(true);
  }
  return any_true ? json(false) : json(nullptr);
}

}  // namespace

void add_facebook_messenger_keys(const catalog::Service& service, json& keys) {
  const json none;
  const std::vector<std::string> prefixes =
      format::networks_from_json(keys.contains("x_networks") ? keys["x_networks"] : none).prefixes;

  // Transactions of each host's chains, from the plan.
  std::map<std::string, std::set<int64_t>> chains;
  for (const auto& ep : format::planned_endpoints_from_json(keys.contains("x_endpoints") ? keys["x_endpoints"] : none))
    if (ep.transaction_id) chains[ep.host].insert(*ep.transaction_id);
  auto tally = [&](const char* kind, const std::string& host) {
    int ok = 0, bad = 0;
    const auto& txs = chains[host];
    for (const auto& o : keys.value(kind, json::array())) {
      if (!o.is_object() || !o.contains("transaction_id") || !o["transaction_id"].is_number_integer()) continue;
      if (!txs.count(o["transaction_id"].get<int64_t>())) continue;
      (failed(o) ? bad : ok)++;
    }
    return any_ok(ok, bad);
  };

  std::vector<json> dns, tcp, tls;
  for (const auto& n : service.endpoints) {
    if (n.ooni_id.empty()) continue;
    json consistent = nullptr;
    for (const auto& q : keys.value("queries", json::array())) {
      if (!q.is_object() || q.value("engine", "") != "getaddrinfo" || q.value("hostname", "") != n.host) continue;
      std::vector<std::string> addrs;
      for (const auto& a : q.value("answers", json::array())) {
        if (a.contains("ipv4") && a["ipv4"].is_string()) addrs.push_back(a["ipv4"]);
        if (a.contains("ipv6") && a["ipv6"].is_string()) addrs.push_back(a["ipv6"]);
      }
      bool ok = q["failure"].is_null() && !addrs.empty();
      for (const auto& ip : addrs) ok = ok && analysis::in_any_prefix(ip, prefixes);
      consistent = ok;
    }
    const std::string& id = n.ooni_id;
    const bool looked_up_only = n.chain == catalog::Chain::Dns;  // stun: UDP, never connected
    json reachable = looked_up_only || consistent != json(true) ? json(nullptr) : tally("tcp_connect", n.host);
    json handshake = looked_up_only ? json(nullptr) : tally("tls_handshakes", n.host);
    keys["facebook_" + id + "_dns_consistent"] = consistent;
    keys["facebook_" + id + "_reachable"] = reachable;
    if (!looked_up_only) keys["x_facebook_" + id + "_tls_handshake"] = handshake;
    dns.push_back(consistent);
    tcp.push_back(reachable);
    tls.push_back(handshake);
  }
  keys["facebook_dns_blocking"] = blocking(dns);
  keys["facebook_tcp_blocking"] = blocking(tcp);
  keys["x_facebook_tls_blocking"] = blocking(tls);
  keys["x_ooni_spec"] = "ts-019 (2016-10-25-001), keys as OONI facebook_messenger 0.4.0";
}

}  // namespace vantage::testkeys
