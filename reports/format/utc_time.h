// Times as text: the one strftime-in-UTC every file name, id and log stamp
// uses. Never reads the local time zone.
#pragma once

#include <chrono>
#include <ctime>
#include <string>

namespace vantage::format {

// tp in UTC with a strftime format ("%Y-%m-%dT%H:%M:%SZ"); at most 63 bytes.
std::string utc_time(std::chrono::system_clock::time_point tp, const char* strftime_format);
// The same for seconds since the epoch. For times read from input: a
// system_clock time_point counts nanoseconds and cannot hold years past
// 2262 (making one from a later time overflows), a time_t can.
std::string utc_time(std::time_t seconds, const char* strftime_format);

}  // namespace vantage::format
