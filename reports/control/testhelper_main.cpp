// vantage-testhelper: serves the control ("test helper") protocol over HTTP.
//
//   POST /        OONI web-connectivity helper request → answer (test_helper.h)
//   GET  /health  {"status":"ok"}
//
// Only parses flags, accepts connections and logs: what is measured and what
// is refused is decided by reports/control/test_helper.cpp, which the
// collector serves too. Logs one JSON line per request to stderr (never the
// client's address: it would identify volunteers). Stops gracefully on
// SIGTERM/SIGINT, finishing requests in flight. Plain HTTP: put TLS in front
// (nginx) when it faces the Internet.
#include <httplib.h>
#include <pthread.h>
#include <signal.h>

#include <CLI/CLI.hpp>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <iostream>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "reports/control/test_helper.h"
#include "reports/server/http_status.h"
#include "reports/server/json_log.h"
#include "reports/server/listen_address.h"

namespace {

using json = nlohmann::json;
using Clock = std::chrono::steady_clock;

// When the current request began: set before routing, read by the logger,
// which runs on the same worker thread.
thread_local std::optional<Clock::time_point> request_start;

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"vantage-testhelper: the control vantage point (OONI web-connectivity helper protocol)"};
  std::string listen = "127.0.0.1:8080";
  std::string ca_bundle;
  std::vector<std::string> allow_nets;
  bool allow_private = false;
  bool no_system_store = false;
  std::size_t max_body = 64 * 1024;
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
  std::string host;
  int port = 0;
  if (!vantage::server::split_listen_address(listen, host, port)) {
    std::cerr << "vantage-testhelper: --listen " << listen << ": expected ADDR:PORT such as 127.0.0.1:8080\n";
    return 2;
  }

  // Signals are taken by one thread with sigwait, so stopping the server
  // happens in ordinary code, not in a signal handler. Block them before any
  // thread (the server's pool) exists so every thread inherits the mask.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  signal(SIGPIPE, SIG_IGN);  // a client hanging up must not kill the server

  httplib::Server server;
  server.set_payload_max_length(max_body);
  server.set_read_timeout(10, 0);
  server.set_write_timeout(10, 0);
  server.set_pre_routing_handler([](const httplib::Request&, httplib::Response&) {
    request_start = Clock::now();
    return httplib::Server::HandlerResponse::Unhandled;
  });
  server.set_logger([](const httplib::Request& req, const httplib::Response& res) {
    json line = {{"event", "request"},  {"method", req.method},
                 {"path", req.path},     {"status", res.status},
                 {"request_bytes", req.body.size()}, {"response_bytes", res.body.size()}};
    if (request_start) {
      line["duration_ms"] =
          std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - *request_start).count();
      request_start.reset();
    }
    if (res.status != 200) {
      const json body = json::parse(res.body, nullptr, false);
      if (body.is_object() && body.contains("error")) line["error"] = body["error"];
    }
    vantage::server::log_json_line(std::move(line));
  });
  server.set_error_handler([](const httplib::Request&, httplib::Response& res) {
    // 404, 413, ...: say so in JSON like every other answer.
    if (res.body.empty()) {
      const json body = {{"error", vantage::server::http_status_text(res.status, "POST / or GET /health")}};
      res.set_content(body.dump(), "application/json");
    }
  });

  server.Get("/health", [](const httplib::Request&, httplib::Response& res) {
    res.set_content(R"({"status":"ok"})", "application/json");
  });
  server.Post("/", [&options](const httplib::Request& req, httplib::Response& res) {
    const auto reply = vantage::control::handle_control_body(req.body, options);
    res.status = reply.http_status;
    res.set_content(reply.body.dump(-1, ' ', false, json::error_handler_t::replace), "application/json");
  });

  int bound_port = port;
  bool bound = false;
  if (port == 0) {
    bound_port = server.bind_to_any_port(host);
    bound = bound_port > 0;
  } else {
    bound = server.bind_to_port(host, port);
  }
  if (!bound) {
    std::cerr << "vantage-testhelper: cannot listen on " << listen << "\n";
    return 1;
  }
  const std::string where =
      (host.find(':') != std::string::npos ? "[" + host + "]" : host) + ":" + std::to_string(bound_port);
  json started = {{"event", "listening"}, {"address", where}, {"max_body", max_body}};
  json nets = json::array();
  for (const auto& n : options.allowed_networks) nets.push_back(n.text);
  started["allowed_networks"] = std::move(nets);
  started["allow_private"] = options.allow_private;
  vantage::server::log_json_line(std::move(started));

  std::atomic<bool> stopping{false};
  std::thread signal_waiter([&] {
    int signal_number = 0;
    sigwait(&stop_signals, &signal_number);
    if (stopping.exchange(true)) return;  // woken by main after a listen failure
    vantage::server::log_json_line({{"event", "stopping"}, {"signal", signal_number == SIGTERM ? "SIGTERM" : "SIGINT"}});
    server.stop();
  });

  const bool listened = server.listen_after_bind();
  if (!stopping.exchange(true)) pthread_kill(signal_waiter.native_handle(), SIGTERM);
  signal_waiter.join();
  vantage::server::log_json_line({{"event", "stopped"}});
  return listened ? 0 : 1;
}
