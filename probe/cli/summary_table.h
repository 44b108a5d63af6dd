// The human-readable summary of measurements: one row per service and
// feature with its verdict, method and the first piece of evidence. Reads
// only test_keys.x_verdict; never recomputes anything.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace vantage::cli {

std::string summary_table(const std::vector<nlohmann::json>& measurements);

// One measurement in detail: envelope, verdict, every endpoint.
std::string describe_measurement(const nlohmann::json& measurement);

}  // namespace vantage::cli
