// Times as text: the one strftime-in-UTC every file name, id and log stamp
// uses. Never reads the local time zone.
#pragma once

#include <chrono>
#include <string>

namespace vantage::format {

// tp in UTC with a strftime format ("%Y-%m-%dT%H:%M:%SZ"); at most 63 bytes.
std::string utc_time(std::chrono::system_clock::time_point tp, const char* strftime_format);

}  // namespace vantage::format
