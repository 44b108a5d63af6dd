// The command-line flags every Vantage server takes for the limits of the
// server layer (http_server.h): threads, workers, connection caps and the three
// deadlines. One place, so the collector and the test helper cannot drift
// apart in names, ranges or meaning. Per-program defaults are whatever the
// ServerOptions and ServerFlags hold when add_server_flags is called.
#pragma once

#include <CLI/CLI.hpp>

#include <string>

#include "reports/server/http_server.h"

namespace vantage::server {

struct ServerFlags {
  int head_timeout = 10;     // seconds
  int request_timeout = 120; // seconds
  int idle_timeout = 15;     // seconds
};

// Adds --threads, --workers, --max-connections, --per-ip-connections, --head-timeout,
// --request-timeout and --idle-timeout, with their ranges.
void add_server_flags(CLI::App& app, ServerOptions& http, ServerFlags& flags);

// Adds --PREFIXrate and --PREFIXburst, a per-client request rate limit
// (rate_limiter.h), with their ranges; `what` names the requests in the help
// ("requests", "control requests"). add_rate_flags(app, r, b, "control-", ...)
// gives --control-rate and --control-burst.
void add_rate_flags(CLI::App& app, double& rate, double& burst, const std::string& prefix, const std::string& what);

// Copies the parsed deadlines into `http`.
void apply_server_flags(const ServerFlags& flags, ServerOptions& http);

}  // namespace vantage::server
