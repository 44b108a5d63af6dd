// libcurl result → OONI failure string (df-007), for every step that uses
// libcurl (HTTP requests, DoH, the control client), so the same condition is
// spelled the same way whichever step met it. Never throws.
#pragma once

#include <curl/curl.h>

#include <string>

namespace vantage::net {

// `error_text` is the CURLOPT_ERRORBUFFER contents ("" if none). Uses the
// handle's OS errno and TLS verify result to be precise.
std::string failure_from_curl(CURL* easy, CURLcode code, const char* error_text);

}  // namespace vantage::net
