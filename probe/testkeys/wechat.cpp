// WeChat keys (no OONI test exists; documented in reports/README.md):
// wechat_long_link_status/_failure, wechat_short_link_status/_failure,
// wechat_dns_service_status/_failure, wechat_web_status/_failure, each "ok"
// when any endpoint of the feature works, and wechat_endpoints_blocked
// (host:port entries none of whose addresses worked).
#include <map>

#include "probe/testkeys/feature_status.h"
#include "probe/testkeys/testkeys.h"

namespace vantage::testkeys {

void add_wechat_keys(nlohmann::json& keys) {
  const std::pair<const char*, const char*> features[] = {
      {"wechat_long_link", "messaging"}, {"wechat_short_link", "short_link"},
      {"wechat_dns_service", "dns_service"}, {"wechat_web", "web"}};
  for (const auto& [key, feature] : features) {
    auto s = ooni_feature_status(keys, feature, true);
    keys[std::string(key) + "_status"] = s.status;
    keys[std::string(key) + "_failure"] = s.failure;
  }
  std::map<std::string, bool> ok;
  for (const auto& e : keys["x_verdict"]["endpoints"]) {
    if (e.value("failure", nlohmann::json()) == "interrupted") continue;  // never measured
    std::string ep = e.value("endpoint", "");
    ok[ep] = ok[ep] || e.value("status", "") == "ok";
  }
  nlohmann::json blocked = nlohmann::json::array();
  for (const auto& [ep, good] : ok)
    if (!good) blocked.push_back(ep);
  keys["wechat_endpoints_blocked"] = blocked;
}

}  // namespace vantage::testkeys
