// The collector's HTTP endpoints as plain functions over server::Request ->
// server::Response (reports/server/http_server.h). collector_main.cpp only
// registers them; limits, timeouts and logging are the server layer's.
#pragma once

#include <string>
#include <vector>

#include "reports/collector/collector.h"
#include "reports/server/rate_limiter.h"
#include "reports/server/http_server.h"

namespace vantage::collector {

server::Response http_open_report(Collector& col, const server::Request& req);
// params[0] = report id; `client_ip` = the submitting client (its own
// address in the measurement is refused: client_address.h).
server::Response http_submit(Collector& col, const server::Request& req, const std::string& client_ip);
server::Response http_close_report(Collector& col, const server::Request& req);
server::Response http_health(Collector& col, const server::Request& req);
server::Response http_count(Collector& col, const server::Request& req);
// Streams the rows as JSON, at most `max_bytes` of measurement bodies per
// answer; "next_after" says where the next page starts (pass it as ?after=).
server::Response http_measurements(Collector& col, const server::Request& req, std::size_t max_bytes);

// The client a request counts against for rate limits: client_address()
// (client_address.h), or the raw peer when that is not an address.
std::string client_of(const server::Request& req, const std::vector<std::string>& trusted_proxies);

}  // namespace vantage::collector
