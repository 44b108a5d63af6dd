// WhatsApp's OONI keys (ts-018): whatsapp_endpoints_status /_blocked
// /_dns_inconsistent, registration_server_status/_failure,
// whatsapp_web_status/_failure. An endpoint is listed as blocked only when
// every port and address of it failed, as OONI does. Ours: x_whatsapp_media_status
// /_failure for the media hosts (OONI has no media check).
#include <map>
#include <set>

#include "probe/testkeys/feature_status.h"
#include "probe/testkeys/testkeys.h"

namespace vantage::testkeys {

void add_whatsapp_keys(nlohmann::json& keys) {
  std::map<std::string, bool> host_ok;
  std::set<std::string> dns_inconsistent;
  for (const auto& e : keys["x_verdict"]["endpoints"]) {
    if (e.value("feature", "") != "messaging") continue;
    if (e.value("failure", nlohmann::json()) == "interrupted") continue;  // never measured
    std::string host = e.value("endpoint", "");
    host = host.substr(0, host.find(':'));
    host_ok[host] = host_ok[host] || e.value("status", "") == "ok";
    if (e.value("method", nlohmann::json()).is_string() && e["method"] == "dns") dns_inconsistent.insert(host);
  }
  nlohmann::json blocked = nlohmann::json::array();
  for (const auto& [host, ok] : host_ok)
    if (!ok) blocked.push_back(host);
  auto messaging = ooni_feature_status(keys, "messaging", true);
  auto registration = ooni_feature_status(keys, "registration", false);
  auto web = ooni_feature_status(keys, "web", false);
  auto media = ooni_feature_status(keys, "media", false);
  keys["whatsapp_endpoints_status"] = messaging.status;
  keys["whatsapp_endpoints_blocked"] = blocked;
  keys["whatsapp_endpoints_dns_inconsistent"] = nlohmann::json(dns_inconsistent);
  keys["registration_server_status"] = registration.status;
  keys["registration_server_failure"] = registration.failure;
  keys["whatsapp_web_status"] = web.status;
  keys["whatsapp_web_failure"] = web.failure;
  keys["x_whatsapp_media_status"] = media.status;
  keys["x_whatsapp_media_failure"] = media.failure;
}

}  // namespace vantage::testkeys
