// WhatsApp's OONI keys (ts-018) beyond per-feature statuses: the chat
// endpoints' lists, whatsapp_endpoints_blocked and
// whatsapp_endpoints_dns_inconsistent, over the feature the catalog reports
// as whatsapp_endpoints_status. An endpoint is listed as blocked only when
// every port and address of it failed, as OONI does. The per-feature keys
// (whatsapp_endpoints_status, registration_server_status/_failure,
// whatsapp_web_status/_failure, ours x_whatsapp_media_status/_failure) are
// named in tests_catalog/whatsapp.json.
#include <map>
#include <set>

#include "probe/testkeys/service_keys.h"

namespace vantage::testkeys {

void add_whatsapp_keys(const catalog::Service& service, nlohmann::json& keys) {
  const auto* chat = catalog::feature_with_status_key(service, "whatsapp_endpoints_status");
  std::map<std::string, bool> host_ok;
  std::set<std::string> dns_inconsistent;
  for (const auto& e : keys["x_verdict"]["endpoints"]) {
    if (!chat || e.value("feature", "") != chat->name) continue;
    if (e.value("failure", nlohmann::json()) == "interrupted") continue;  // never measured
    std::string host = e.value("endpoint", "");
    host = host.substr(0, host.find(':'));
    host_ok[host] = host_ok[host] || e.value("status", "") == "ok";
    if (e.value("method", nlohmann::json()).is_string() && e["method"] == "dns") dns_inconsistent.insert(host);
  }
  nlohmann::json blocked = nlohmann::json::array();
  for (const auto& [host, ok] : host_ok)
    if (!ok) blocked.push_back(host);
  keys["whatsapp_endpoints_blocked"] = blocked;
  keys["whatsapp_endpoints_dns_inconsistent"] = nlohmann::json(dns_inconsistent);
}

}  // namespace vantage::testkeys
