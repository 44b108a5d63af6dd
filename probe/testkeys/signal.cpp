// Signal's OONI keys (ts-029): signal_backend_status is "blocked" when any
// judged backend endpoint failed, with the first failure in
// signal_backend_failure. (The verdict is finer: per feature, with control.)
#include "probe/testkeys/service_keys.h"

namespace vantage::testkeys {

void add_signal_keys(const catalog::Service&, nlohmann::json& keys) {
  std::string status = "ok";
  nlohmann::json failure = nullptr;
  for (const auto& e : keys["x_verdict"]["endpoints"]) {
    if (e.value("judged", true) == false || e.value("status", "") == "ok") continue;
    if (e.value("failure", nlohmann::json()) == "interrupted") continue;  // never measured
    if (e.value("feature", "") == "updates") continue;  // not one of OONI's four backends
    status = "blocked";
    if (failure.is_null()) failure = e["failure"];
  }
  keys["signal_backend_status"] = status;
  keys["signal_backend_failure"] = failure;
}

}  // namespace vantage::testkeys
