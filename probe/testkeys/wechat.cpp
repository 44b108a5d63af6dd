// WeChat keys (no OONI test exists; documented in reports/README.md):
// wechat_endpoints_blocked (host:port entries none of whose addresses
// worked). The per-feature keys (wechat_long_link_status/_failure,
// wechat_short_link_*, wechat_dns_service_*, wechat_web_*) are named in
// tests_catalog/wechat.json.
#include <map>

#include "probe/testkeys/service_keys.h"

namespace vantage::testkeys {

void add_wechat_keys(const catalog::Service&, nlohmann::json& keys) {
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
