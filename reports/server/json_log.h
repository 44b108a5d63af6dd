// Structured logs of Vantage's servers (vantage-collector,
// vantage-testhelper): one JSON object per line on stderr, stamped with
// "ts" (UTC). Thread-safe; never throws, even on invalid UTF-8.
#pragma once

#include <nlohmann/json.hpp>

namespace vantage::server {

void log_json_line(nlohmann::json line);

}  // namespace vantage::server
