// The libcurl options every request from the probe to one of Vantage's own
// servers sets (the collector's protocol, its whoami): the URL, the probe's
// user agent, no signals (the probe has threads), no redirects, bounded in
// time, the peer and its host name verified (against `ca_bundle`, else the
// system roots), and exactly the proxy the volunteer named ("" = direct:
// curl's *_proxy environment variables are ignored too). The answer's body
// goes to `request.answer`; past `max_answer` bytes the transfer fails.
// Measurements do not use this (http_request.h pins addresses and records).
#pragma once

#include <curl/curl.h>

#include <chrono>
#include <cstddef>
#include <limits>
#include <string>

namespace vantage::net {

struct ServerRequest {
  std::string url;
  std::string ca_bundle;  // PEM file; "" = the system roots
  std::string proxy;      // "" = direct
  std::chrono::milliseconds connect_timeout{5000};
  std::chrono::milliseconds timeout{5000};  // the whole transfer
  std::size_t max_answer = std::numeric_limits<std::size_t>::max();
  std::string answer;  // the response body, filled by curl_easy_perform
};

// Sets the options on `curl` (after curl_easy_reset or init). `request` must
// outlive the transfer: curl writes the answer into it.
void set_server_request(CURL* curl, ServerRequest& request);

}  // namespace vantage::net
