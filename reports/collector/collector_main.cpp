// vantage-collector: the measurement collector (OONI collector protocol),
// the control helper (off unless --control), a health check and a read-only
// query endpoint.
//
//   POST /report                   open a report       → {"report_id",...}
//   POST /report/{id}              submit a measurement → {"measurement_uid"}
//   POST /report/{id}/close        close a report       → {}
//   POST /  and  POST /api/v1/control   control helper (reports/control), with --control
//   GET  /health                   {"status":"ok","store":...} or 503
//   GET  /api/v1/measurements?report_id=&test_name=&probe_cc=&probe_asn=&limit=&after=&body=1
//   GET  /api/v1/count?...         {"count": n}
//   GET  /api/v1/whoami            {"ip": the caller's address} (client_address.h)
//   GET  /dashboard/...            the dashboard's pages and data (analysis/dashboard/site.h)
//
// HTTP, limits, timeouts and logging are the server layer's
// (reports/server/http_server.h); the endpoints are plain functions in
// collector_http.cpp; what is accepted and stored is decided in
// collector.cpp. Logs one JSON line per request to stderr and never the
// client's address. TLS: --tls-cert/--tls-key serve HTTPS directly (GnuTLS
// inside libmicrohttpd); or put a reverse proxy in front (see
// reports/collector/README.md) and name it with --trust-proxy.
// SIGTERM/SIGINT stop accepting, finish requests in flight, close the store.
#include <pthread.h>
#include <signal.h>

#include <CLI/CLI.hpp>
#include <atomic>
#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "analysis/aggregate/dashboard_cache.h"
#include "analysis/aggregate/dashboard_data.h"
#include "analysis/dashboard/site.h"
#include "reports/collector/client_address.h"
#include "reports/collector/collector.h"
#include "reports/collector/collector_http.h"
#include "reports/server/rate_limiter.h"
#include "reports/collector/store.h"
#include "reports/control/test_helper.h"
#include "reports/control/control_http.h"
#include "reports/format/ip_address.h"
#include "reports/format/read_file.h"
#include "reports/server/http_server.h"
#include "reports/server/json_log.h"
#include "reports/server/listen_address.h"
#include "reports/server/server_flags.h"

namespace {

using json = nlohmann::json;
using namespace vantage;

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"vantage-collector: receives measurements (OONI collector protocol), stores them, and serves the\n"
               "control helper. Quick start: vantage-collector --store sqlite:measurements.sqlite"};
  std::string listen = "127.0.0.1:8765";
  std::string store_url = "sqlite:vantage-measurements.sqlite";
  std::string tls_cert, tls_key, collector_name = "1";
  server::ServerOptions http;
  http.not_found_hint = "see the endpoints in vantage-collector --help";
  http.server_name = "collector";
  double rate = 20, burst = 60;
  std::vector<std::string> trusted_proxies;
  std::size_t query_bytes = 8 << 20;
  server::ServerFlags limits;  // head 10 s, request 120 s, idle 15 s
  bool control = false, no_control = false;
  std::string control_ca;
  std::vector<std::string> control_nets;
  bool control_private = false;
  double control_rate = 5, control_burst = 100;
  app.add_option("--listen", listen, "ADDR:PORT to listen on (port 0 = any free port)")->capture_default_str();
  app.add_option("--store", store_url, "sqlite:PATH (default) or clickhouse://HOST:PORT[/DATABASE]")
      ->capture_default_str();
  app.add_option("--max-body", http.max_body,
                 "largest request body, in bytes, on the wire and after gzip decompression (413 beyond)")
      ->capture_default_str()
      ->check(CLI::Range(std::size_t{1024}, std::size_t{64} << 20));
  server::add_rate_flags(app, rate, burst, "", "requests");
  app.add_option("--trust-proxy", trusted_proxies,
                 "ADDR of a reverse proxy in front (repeatable): requests from it are counted against the last "
                 "X-Forwarded-For hop it did not add itself; from anyone else X-Forwarded-For is ignored");
  server::add_server_flags(app, http, limits);
  app.add_option("--query-bytes", query_bytes, "measurement bytes at most in one /api/v1/measurements answer")
      ->capture_default_str()
      ->check(CLI::Range(std::size_t{1024}, std::size_t{256} << 20));
  app.add_option("--tls-cert", tls_cert, "serve HTTPS with this PEM certificate chain")->check(CLI::ExistingFile);
  app.add_option("--tls-key", tls_key, "the PEM private key of --tls-cert")->check(CLI::ExistingFile);
  app.add_option("--collector-name", collector_name, "the n{NAME} part of report ids")->capture_default_str();
  app.add_flag("--control", control, "also serve the control helper (POST / and /api/v1/control); off by default");
  app.add_flag("--no-control", no_control, "do not serve the control helper (the default)");
  app.add_option("--control-ca-bundle", control_ca, "extra CA bundle the control helper trusts")
      ->check(CLI::ExistingFile);
  app.add_option("--control-allow-net", control_nets, "CIDR the control helper may connect to (repeatable)");
  app.add_flag("--control-allow-private", control_private,
               "let the control helper connect to loopback/private addresses");
  server::add_rate_flags(app, control_rate, control_burst, "control-", "control requests");
  std::string dashboard_assets, dashboard_data;
  app.add_option("--dashboard-assets", dashboard_assets,
                 "serve /dashboard/ pages from this directory (default: this build's or the installed pages)")
      ->check(CLI::ExistingDirectory);
  app.add_option("--dashboard-data", dashboard_data,
                 "serve /dashboard/data/ from this directory (DIR/data written by vantage-analyze dashboard)")
      ->check(CLI::ExistingDirectory);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // --help exits 0; a bad flag is a usage error, 2, as for vantage.
    return app.exit(e) == 0 ? 0 : 2;
  }
  if (no_control) control = false;

  if (tls_cert.empty() != tls_key.empty()) {
    std::cerr << "vantage-collector: --tls-cert and --tls-key go together\n";
    return 2;
  }
  if (!tls_cert.empty() && (!format::read_file(tls_cert, http.tls_cert_pem).empty() ||
                            !format::read_file(tls_key, http.tls_key_pem).empty())) {
    std::cerr << "vantage-collector: cannot read --tls-cert " << tls_cert << " / --tls-key " << tls_key << "\n";
    return 2;
  }
  for (char c : collector_name) {
    if (!std::isalnum(static_cast<unsigned char>(c))) {
      std::cerr << "vantage-collector: --collector-name " << collector_name << ": letters and digits only\n";
      return 2;
    }
  }
  for (const auto& proxy : trusted_proxies) {
    control::IpNetwork network;
    if (proxy.find('/') != std::string::npos || !control::parse_ip_network(proxy, network)) {
      std::cerr << "vantage-collector: --trust-proxy " << proxy << ": expected an address such as 127.0.0.1\n";
      return 2;
    }
  }
  for (auto& proxy : trusted_proxies) proxy = collector::client_address(proxy, "", {});
  control::ControlOptions control_options;
  control_options.ca_bundle = control_ca;
  control_options.allow_private = control_private;
  for (const auto& text : control_nets) {
    control::IpNetwork network;
    if (!control::parse_ip_network(text, network)) {
      std::cerr << "vantage-collector: --control-allow-net " << text << ": expected a CIDR such as 198.18.0.0/15\n";
      return 2;
    }
    control_options.allowed_networks.push_back(network);
  }
  if (!server::split_listen_address(listen, http.host, http.port)) {
    std::cerr << "vantage-collector: --listen " << listen << ": expected ADDR:PORT such as 127.0.0.1:8765\n";
    return 2;
  }
  server::apply_server_flags(limits, http);
  std::string error;
  auto store = collector::open_store(store_url, error);
  if (!store) {
    std::cerr << "vantage-collector: --store: " << error << "\n";
    return 2;
  }
  collector::CollectorOptions options;
  options.collector_name = collector_name;
  collector::Collector col(*store, options);
  server::RateLimiter limiter(rate, burst);
  server::RateLimiter control_limiter(control_rate, control_burst);

  // Signals are taken by sigwait in main, never in a handler; blocked before
  // any thread exists so every server thread inherits the mask.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  signal(SIGPIPE, SIG_IGN);

  std::optional<dashboard::Assets> dashboard_pages;
  if (const std::string dir = dashboard_assets.empty() ? dashboard::default_assets_dir() : dashboard_assets;
      !dir.empty()) {
    dashboard_pages = dashboard::Assets::load(dir, error);
    if (!dashboard_pages) {
      std::cerr << "vantage-collector: --dashboard-assets: " << error << "\n";
      return 2;
    }
  }
  // The dashboard's data: computed live from the store (analysis/aggregate),
  // or, with --dashboard-data, files written by `vantage-analyze dashboard`.
  // Live answers are cached until a measurement is stored here (or for a
  // minute: another collector may write to the same ClickHouse store).
  std::atomic<std::uint64_t> stored{0};
  analysis::DashboardCache live_data(
      [store_url](const analysis::DashboardRequest& r) { return analysis::serve_dashboard_data(r, store_url); },
      [&stored] { return stored.load(); });
  const dashboard::DataSource dashboard_source =
      !dashboard_data.empty()
          ? dashboard::data_directory_source(dashboard_data)
          : dashboard::DataSource([&live_data](const std::string&, const dashboard::Request& r) {
              auto a = live_data.get({r.method, r.path, r.query});
              return dashboard::Response{a.status, a.content_type, std::move(a.body), std::move(a.headers)};
            });

  server::HttpServer server(http);
  using server::Request;
  // The client's address, normalized (::ffff:a.b.c.d as a.b.c.d), behind a
  // trusted proxy its last untrusted X-Forwarded-For hop.
  auto client_ip = [&](const Request& r) {
    return collector::client_address(r.peer, r.header("x-forwarded-for"), trusted_proxies);
  };
  server.set_filter([&](const Request& req) -> std::optional<server::Response> {
    if (req.path == "/health") return std::nullopt;
    const std::string client = collector::client_of(req, trusted_proxies);
    const bool is_control = req.path == "/" || req.path == "/api/v1/control";
    if (limiter.allow(client) && (!is_control || control_limiter.allow(client))) return std::nullopt;
    auto r = server::error_response(429, "too many requests from this client; retry later");
    r.headers.emplace_back("Retry-After", std::to_string(limiter.retry_after()));
    return r;
  });
  // The route table: one line per endpoint.
  server.route("POST", "/report", [&](const Request& r) { return collector::http_open_report(col, r); });
  server.route("POST", "/report/*", [&](const Request& r) {
    auto out = collector::http_submit(col, r, client_ip(r));
    if (out.status == 200) ++stored;
    return out;
  });
  server.route("POST", "/report/*/close", [&](const Request& r) { return collector::http_close_report(col, r); });
  server.route("GET", "/health", [&](const Request& r) { return collector::http_health(col, r); });
  server.route("GET", "/api/v1/measurements",
               [&](const Request& r) { return collector::http_measurements(col, r, query_bytes); });
  server.route("GET", "/api/v1/count", [&](const Request& r) { return collector::http_count(col, r); });
  server.route("GET", "/api/v1/whoami", [&](const Request& r) {
    auto w = collector::whoami(r.method, client_ip(r));
    server::Response out;
    out.status = w.status;
    out.content_type = w.content_type;
    out.body = std::move(w.body);
    return out;
  });
  auto dashboard_page = [&](const Request& r) {
    dashboard::Request request{r.method, r.path, {}};
    for (const auto& [k, v] : r.query) request.query.emplace(k, v);
    auto reply = dashboard::serve(request, dashboard_pages ? &*dashboard_pages : nullptr, dashboard_source);
    server::Response out;
    out.status = reply.status;
    out.content_type = reply.content_type;
    out.headers = std::move(reply.headers);
    out.body = std::move(reply.body);
    return out;
  };
  // Everything under /dashboard/ reaches the dashboard, which refuses
  // traversal itself (400) rather than the router answering 404.
  server.route("GET", "/dashboard", dashboard_page);
  server.route("GET", "/dashboard/", dashboard_page);
  server.route("GET", "/dashboard/**", dashboard_page);
  if (control) {
    auto helper = [&](const Request& r) { return control::http_control(r, control_options); };
    server.route("POST", "/", helper, control::kMaxControlBody);
    server.route("POST", "/api/v1/control", helper, control::kMaxControlBody);
  }

  if (!server.start(error)) {
    std::cerr << "vantage-collector: " << error << "\n";
    return 1;
  }
  const std::string where = ip::join_host_port(http.host, server.port());
  server::log_json_line({{"event", "listening"}, {"address", where}, {"store", store->name()},
                         {"tls", !tls_cert.empty()}, {"max_body", http.max_body}, {"rate", rate}, {"burst", burst},
                         {"control", control}, {"threads", http.threads}, {"workers", http.workers}, {"max_connections", http.max_connections},
                         {"per_ip_connections", http.per_ip_connections}, {"head_timeout", limits.head_timeout},
                         {"request_timeout", limits.request_timeout}, {"idle_timeout", limits.idle_timeout}});
  int signal_number = 0;
  sigwait(&stop_signals, &signal_number);
  server::log_json_line({{"event", "stopping"}, {"signal", signal_number == SIGTERM ? "SIGTERM" : "SIGINT"}});
  server.stop();  // finishes requests in flight (up to 20 s), then closes every connection
  store.reset();
  server::log_json_line({{"event", "stopped"}});
  return 0;
}
