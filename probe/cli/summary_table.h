// The human-readable summary of measurements: one row per service and
// feature with its verdict, method and the first piece of evidence. Reads
// only test_keys.x_verdict; never recomputes anything.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace vantage::cli {

std::string summary_table(const std::vector<nlohmann::json>& measurements);

// "" when the run measured IPv6 (or had nothing to measure over it because
// it is off), else why it did not, once for the run, from x_ipv6:
// "IPv6 not measured: this host has no IPv6 route".
std::string ipv6_summary(const std::vector<nlohmann::json>& measurements);

// One measurement in detail: envelope, verdict, every endpoint.
std::string describe_measurement(const nlohmann::json& measurement);

}  // namespace vantage::cli
