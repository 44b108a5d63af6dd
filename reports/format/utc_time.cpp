// UTC formatting. See utc_time.h.
#include "reports/format/utc_time.h"

#include <ctime>

namespace vantage::format {

std::string utc_time(std::chrono::system_clock::time_point tp, const char* strftime_format) {
  return utc_time(std::chrono::system_clock::to_time_t(tp), strftime_format);
}

std::string utc_time(std::time_t t, const char* strftime_format) {
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[64];
  if (std::strftime(buf, sizeof buf, strftime_format, &tm) == 0) return "";
  return buf;
}

}  // namespace vantage::format
