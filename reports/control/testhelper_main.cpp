// vantage-testhelper: serves the control ("test helper") protocol over HTTP.
//
//   POST /        OONI web-connectivity helper request → answer (test_helper.h)
//   GET  /health  {"status":"ok"}
//
// Only parses flags, accepts connections and logs: what is measured and what
// is refused is decided by reports/control/test_helper.cpp, which the
// collector serves too; HTTP limits and timeouts are the shared server
// layer's (reports/server/http_server.h). Logs one JSON line per request to
// stderr (never the client's address: it would identify volunteers). Stops
// gracefully on SIGTERM/SIGINT, finishing requests in flight. Plain HTTP: put
// TLS in front (nginx) when it faces the Internet.
#include <pthread.h>
#include <signal.h>

#include <CLI/CLI.hpp>
#include <iostream>
#include <string>
#include <vector>

#include "reports/server/rate_limiter.h"
#include "reports/control/control_http.h"
#include "reports/control/test_helper.h"
#include "reports/format/ip_address.h"
#include "reports/server/http_server.h"
#include "reports/server/json_log.h"
#include "reports/server/listen_address.h"
#include "reports/server/server_flags.h"

namespace {

using json = nlohmann::json;

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"vantage-testhelper: the control vantage point (OONI web-connectivity helper protocol)"};
  std::string listen = "127.0.0.1:8080";
  std::string ca_bundle;
  std::vector<std::string> allow_nets;
  bool allow_private = false;
  bool no_system_store = false;
  std::size_t max_body = vantage::control::kMaxControlBody;
  vantage::server::ServerOptions http;
  // A control request holds its worker while it measures (seconds, up to
  // its deadline): enough workers for two probes' requests in flight (16
  // each); more wait their turn without stalling anybody's connection.
  http.workers = 32;
  http.server_name = "testhelper";
  http.not_found_hint = "POST / or GET /health";
  vantage::server::ServerFlags limits;
  limits.request_timeout = 30;  // a control request is small
  double rate = 5, burst = 100;
  app.add_option("--listen", listen, "ADDR:PORT to listen on (port 0 = any free port)")
      ->capture_default_str();
  app.add_option("--ca-bundle", ca_bundle, "extra PEM CA bundle trusted for TLS checks")
      ->check(CLI::ExistingFile);
  app.add_option("--allow-net", allow_nets,
                 "CIDR the helper may connect to (repeatable); when given, only these")
      ->type_name("CIDR");
  app.add_flag("--allow-private", allow_private,
               "also connect to loopback/private/link-local addresses (no --allow-net)");
  app.add_flag("--no-system-store", no_system_store, "do not trust the system's CA store");
  app.add_option("--max-body", max_body, "largest request body accepted, in bytes (413 beyond)")
      ->capture_default_str()
      ->check(CLI::Range(std::size_t{1}, std::size_t{16} << 20));
  vantage::server::add_server_flags(app, http, limits);
  vantage::server::add_rate_flags(app, rate, burst, "", "control requests");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // --help exits 0; a bad flag is a usage error, 2, as for vantage.
    return app.exit(e) == 0 ? 0 : 2;
  }

  vantage::control::ControlOptions options;
  options.ca_bundle = ca_bundle;
  options.system_store = !no_system_store;
  options.allow_private = allow_private;
  for (const auto& text : allow_nets) {
    vantage::control::IpNetwork network;
    if (!vantage::control::parse_ip_network(text, network)) {
      std::cerr << "vantage-testhelper: --allow-net " << text
                << ": expected a CIDR such as 198.18.0.0/15 or fd00::/8\n";
      return 2;
    }
    options.allowed_networks.push_back(network);
  }
  if (!vantage::server::split_listen_address(listen, http.host, http.port)) {
    std::cerr << "vantage-testhelper: --listen " << listen << ": expected ADDR:PORT such as 127.0.0.1:8080\n";
    return 2;
  }
  http.max_body = max_body;
  vantage::server::apply_server_flags(limits, http);

  // Signals are taken by one thread with sigwait, so stopping the server
  // happens in ordinary code, not in a signal handler. Block them before any
  // thread (the server's pool) exists so every thread inherits the mask.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  signal(SIGPIPE, SIG_IGN);  // a client hanging up must not kill the server

  vantage::server::HttpServer server(http);
  using vantage::server::Request;
  // Each control request makes the helper open up to 64 connections and one
  // HTTP request: a per-client rate limit keeps it from being a scanner.
  vantage::server::RateLimiter limiter(rate, burst);
  server.set_filter([&limiter](const Request& req) -> std::optional<vantage::server::Response> {
    if (req.path == "/health" || limiter.allow(req.peer)) return std::nullopt;
    auto r = vantage::server::error_response(429, "too many requests from this client; retry later");
    r.headers.emplace_back("Retry-After", std::to_string(limiter.retry_after()));
    return r;
  });
  server.route("GET", "/health", [](const Request&) { return vantage::server::json_response(200, R"({"status":"ok"})"); });
  server.route("POST", "/", [&options](const Request& r) { return vantage::control::http_control(r, options); });
  std::string error;
  if (!server.start(error)) {
    std::cerr << "vantage-testhelper: " << error << "\n";
    return 1;
  }
  const std::string where = vantage::ip::join_host_port(http.host, server.port());
  json started = {{"event", "listening"}, {"address", where}, {"max_body", max_body}};
  json nets = json::array();
  for (const auto& n : options.allowed_networks) nets.push_back(n.text);
  started["allowed_networks"] = std::move(nets);
  started["allow_private"] = options.allow_private;
  vantage::server::log_json_line(std::move(started));

  int signal_number = 0;
  sigwait(&stop_signals, &signal_number);
  vantage::server::log_json_line({{"event", "stopping"}, {"signal", signal_number == SIGTERM ? "SIGTERM" : "SIGINT"}});
  server.stop();
  vantage::server::log_json_line({{"event", "stopped"}});
  return 0;
}
