// Structured server logs. See json_log.h.
#include "reports/server/json_log.h"

#include "reports/format/utc_time.h"

#include <cstdio>
#include <ctime>
#include <mutex>

namespace vantage::server {

void log_json_line(nlohmann::json line) {
  static std::mutex mu;
  line["ts"] = format::utc_time(std::chrono::system_clock::now(), "%Y-%m-%dT%H:%M:%SZ");
  const std::string text = line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  std::lock_guard<std::mutex> lock(mu);
  std::fprintf(stderr, "%s\n", text.c_str());
  std::fflush(stderr);
}

}  // namespace vantage::server
