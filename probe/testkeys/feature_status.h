// OONI-style per-feature status ("ok"/"blocked") and first failure, from the
// verdict's endpoint list: what a feature's catalog `ooni_keys` carry.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

namespace vantage::testkeys {

struct OoniStatus {
  nlohmann::json status;  // "ok" | "blocked" | null (nothing was measured)
  nlohmann::json failure = nullptr;
};

// any_ok: "ok" when any endpoint of the feature worked (else all must work);
// the feature's catalog rule ("any"/"all").
OoniStatus ooni_feature_status(const nlohmann::json& test_keys, const std::string& feature, bool any_ok);

}  // namespace vantage::testkeys
