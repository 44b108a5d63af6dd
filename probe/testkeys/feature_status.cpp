// OONI-style feature status. See feature_status.h.
#include "probe/testkeys/feature_status.h"

#include "reports/format/vocabulary.h"

namespace vantage::testkeys {

OoniStatus ooni_feature_status(const nlohmann::json& keys, const std::string& feature, bool any_ok) {
  int ok = 0, failed = 0;
  OoniStatus s;
  for (const auto& e : keys["x_verdict"]["endpoints"]) {
    if (e.value("feature", "") != feature || e.value("judged", true) == false) continue;
    if (e.value("failure", nlohmann::json()) == vocab::kInterrupted) continue;  // never measured
    if (e.value("status", "") == vocab::kOk) {
      ++ok;
    } else {
      ++failed;
      if (s.failure.is_null() && e["failure"].is_string()) s.failure = e["failure"];
    }
  }
  bool good = any_ok ? ok > 0 : (failed == 0 && ok > 0);
  if (ok + failed == 0) {  // nothing measured: no claim either way
    s.status = nullptr;
    s.failure = nullptr;
    return s;
  }
  s.status = good ? vocab::kOk : vocab::kBlocked;
  if (good) s.failure = nullptr;
  return s;
}

}  // namespace vantage::testkeys
