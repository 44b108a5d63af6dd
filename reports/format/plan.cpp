// The plan and evidence types. See plan.h for the contract.
#include "reports/format/plan.h"

#include "reports/format/json_read.h"

namespace vantage::format {
namespace {

using nlohmann::json;

std::vector<std::string> strings(const json& j, const char* key) {
  std::vector<std::string> out;
  auto it = j.find(key);
  if (it == j.end() || !it->is_array()) return out;
  for (const auto& s : *it)
    if (s.is_string()) out.push_back(s.get<std::string>());
  return out;
}


}  // namespace

json to_json(const PlannedEndpoint& e) {
  json j{{"endpoint", e.endpoint},
         {"host", e.host},
         {"chain", e.chain},
         {"feature", e.feature},
         {"judged", e.judged},
         {"throughput", e.throughput},
         {"dns_transaction_id", e.dns_transaction_id},
         {"dns_udp_transaction_id", e.dns_udp_transaction_id},
         {"confirmed", or_null(e.confirmed)},
         {"port", e.port ? json(*e.port) : json(nullptr)},
         {"ip", or_null(e.ip)},
         {"family", e.family.empty() ? json(nullptr) : json(e.family)}};
  if (!e.url.empty()) j["url"] = e.url, j["method"] = e.method;
  if (!e.exchange.empty()) j["exchange"] = e.exchange;
  if (e.chain != "dns") j["transaction_id"] = e.transaction_id ? json(*e.transaction_id) : json(nullptr);
  if (e.attempts) j["attempts"] = *e.attempts;
  if (!e.failure.empty()) j["failure"] = e.failure;
  return j;
}

PlannedEndpoint planned_endpoint_from_json(const json& j) {
  PlannedEndpoint e;
  if (!j.is_object()) return e;
  e.endpoint = read_string(j, "endpoint");
  e.host = read_string(j, "host");
  e.chain = read_string(j, "chain");
  e.feature = read_string(j, "feature");
  e.judged = read_bool(j, "judged", true);
  e.throughput = read_bool(j, "throughput", false);
  e.dns_transaction_id = read_optional_integer(j, "dns_transaction_id").value_or(-1);
  e.dns_udp_transaction_id = read_optional_integer(j, "dns_udp_transaction_id").value_or(-1);
  e.confirmed = read_optional_string(j, "confirmed");
  e.url = read_string(j, "url");
  e.method = read_string(j, "method");
  e.exchange = read_string(j, "exchange");
  e.port = read_optional_integer(j, "port");
  e.ip = read_optional_string(j, "ip");
  e.family = read_string(j, "family");
  // Measurements from before the key: the address tells its family.
  if (e.family.empty() && e.ip && !e.ip->empty()) e.family = e.ip->find(':') == std::string::npos ? "ipv4" : "ipv6";
  e.transaction_id = read_optional_integer(j, "transaction_id");
  e.attempts = read_optional_integer(j, "attempts");
  e.failure = read_string(j, "failure");
  return e;
}

json to_json(const std::vector<PlannedEndpoint>& endpoints) {
  json a = json::array();
  for (const auto& e : endpoints) a.push_back(to_json(e));
  return a;
}

std::vector<PlannedEndpoint> planned_endpoints_from_json(const json& j) {
  std::vector<PlannedEndpoint> out;
  if (!j.is_array()) return out;
  for (const auto& e : j)
    if (e.is_object()) out.push_back(planned_endpoint_from_json(e));
  return out;
}

json to_json(const std::vector<Feature>& features) {
  json j = json::object();
  for (const auto& f : features) j[f.name] = {{"rule", f.rule}, {"description", f.description}, {"judged", f.judged}};
  return j;
}

std::vector<Feature> features_from_json(const json& j) {
  std::vector<Feature> out;
  if (!j.is_object()) return out;
  for (auto it = j.begin(); it != j.end(); ++it) {
    if (!it.value().is_object()) continue;
    out.push_back({it.key(), read_string(it.value(), "rule"), read_string(it.value(), "description"), read_bool(it.value(), "judged", true)});
  }
  return out;
}

json to_json(const Networks& n) { return json{{"asns", n.asns}, {"prefixes", n.prefixes}}; }

Networks networks_from_json(const json& j) {
  if (!j.is_object()) return {};
  return {strings(j, "asns"), strings(j, "prefixes")};
}

json to_json(const Canary& c) {
  json endpoints = json::array();
  for (const auto& e : c.endpoints)
    endpoints.push_back({{"endpoint", e.endpoint}, {"status", e.status}, {"failure", or_null(e.failure)}});
  return json{{"status", c.status},
              {"throughput_kbps", c.throughput_kbps ? json(*c.throughput_kbps) : json(nullptr)},
              {"endpoints", endpoints}};
}

std::optional<Canary> canary_from_json(const json& j) {
  if (!j.is_object()) return std::nullopt;
  Canary c;
  c.status = read_string(j, "status");
  if (auto it = j.find("throughput_kbps"); it != j.end() && it->is_number()) c.throughput_kbps = it->get<double>();
  if (auto it = j.find("endpoints"); it != j.end() && it->is_array())
    for (const auto& e : *it)
      if (e.is_object()) c.endpoints.push_back({read_string(e, "endpoint"), read_string(e, "status"), read_optional_string(e, "failure")});
  return c;
}

json to_json(const ControlRecord& c) {
  json answers = json::object();
  for (const auto& [key, a] : c.answers) answers[key] = to_json(a);
  return json{{"url", c.url}, {"answers", answers}, {"unreachable", or_null(c.unreachable)}};
}

std::optional<ControlRecord> control_record_from_json(const json& j) {
  if (!j.is_object()) return std::nullopt;
  ControlRecord c;
  c.url = read_string(j, "url");
  c.unreachable = read_optional_string(j, "unreachable");
  if (auto it = j.find("answers"); it != j.end() && it->is_object())
    for (auto a = it->begin(); a != it->end(); ++a) c.answers[a.key()] = control_response_from_json(a.value());
  return c;
}

}  // namespace vantage::format
