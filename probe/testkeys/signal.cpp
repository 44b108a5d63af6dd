// Signal's OONI keys (ts-029): signal_backend_status is "blocked" when any
// judged backend endpoint failed, with the first failure in
// signal_backend_failure. The backends are the catalog's endpoints with an
// `ooni_id` (OONI's four: chat, cdsi, sfu, storage); others (updates, the
// throughput sample) count in the verdict, not in these keys. (The verdict
// is finer: per feature, with control.)
#include <string>
#include <vector>

#include "probe/testkeys/service_keys.h"
#include "reports/format/vocabulary.h"

namespace vantage::testkeys {

void add_signal_keys(const catalog::Service& service, nlohmann::json& keys) {
  std::vector<std::string> backends;
  for (const auto& n : service.endpoints)
    if (!n.ooni_id.empty()) backends.push_back(n.host);
  // An endpoint key is "host" or "host:port".
  auto is_backend = [&](const std::string& key) {
    for (const auto& host : backends)
      if (key == host || key.rfind(host + ":", 0) == 0) return true;
    return false;
  };
  std::string status = vocab::kOk;
  nlohmann::json failure = nullptr;
  for (const auto& e : keys["x_verdict"]["endpoints"]) {
    if (e.value("judged", true) == false || e.value("status", "") == vocab::kOk) continue;
    if (e.value("failure", nlohmann::json()) == vocab::kInterrupted) continue;  // never measured
    if (!is_backend(e.value("endpoint", ""))) continue;
    status = vocab::kBlocked;
    if (failure.is_null()) failure = e["failure"];
  }
  keys["signal_backend_status"] = status;
  keys["signal_backend_failure"] = failure;
}

}  // namespace vantage::testkeys
