// HTTP(S) request with libcurl, pinned to the IP the engine measured
// (CURLOPT_RESOLVE), so the request goes where the TCP and TLS steps went.
// Records request and response heads and a bounded body; counts all body
// bytes and the time spent receiving them (throughput). Never blocks past its
// timeout; never writes JSON.
#pragma once

#include <chrono>
#include <cstddef>
#include <string>

#include "probe/net/step_clock.h"
#include "probe/net/tls_handshake.h"
#include "reports/format/observations.h"

namespace vantage::net {

struct HttpOptions {
  std::string url;
  std::string method = "GET";
  std::string body;            // request body for POST
  std::string pin_ip;          // connect here instead of resolving ("" = resolve)
  int pin_port = 0;            // 0 = the URL's port
  TlsTrust trust;
  std::string user_agent = "vantage";
  std::size_t max_body = 1 << 16;        // bytes kept in the observation
  std::size_t max_download = 1 << 20;    // stop reading after this many bytes
  std::chrono::milliseconds timeout{15000};
  // When > 0: stop reading the body after this long without it being a
  // failure (body marked truncated) — used to measure throughput.
  std::chrono::milliseconds download_window{0};
  bool follow_redirects = false;
};

format::HttpObservation http_request(const HttpOptions& options, const StepContext& ctx);

}  // namespace vantage::net
