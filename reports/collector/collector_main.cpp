// vantage-collector: the measurement collector (OONI collector protocol),
// the control helper, a health check and a read-only query endpoint.
//
//   POST /report                   open a report       → {"report_id",...}
//   POST /report/{id}              submit a measurement → {"measurement_uid"}
//   POST /report/{id}/close        close a report       → {}
//   POST /  and  POST /api/v1/control   control helper (reports/control)
//   GET  /health                   {"status":"ok","store":...} or 503
//   GET  /api/v1/measurements?report_id=&test_name=&probe_cc=&probe_asn=&limit=&body=1
//   GET  /api/v1/count?...         {"count": n}
//   GET  /api/v1/whoami            {"ip": the caller's address} (client_address.h)
//   GET  /dashboard/...            the dashboard's pages and data (analysis/dashboard/site.h)
//
// Only HTTP lives here (cpp-httplib): body limits (also on gzip-decompressed
// bodies), per-client rate limits, logging and shutdown. What is accepted
// and stored is decided in collector.cpp; what the control helper does, in
// reports/control. Logs one JSON line per request to stderr and never the
// client's address. TLS: --tls-cert/--tls-key serve HTTPS directly;
// otherwise put a reverse proxy in front (see reports/collector/README.md)
// and pass --trust-proxy so rate limits use X-Forwarded-For.
// SIGTERM/SIGINT stop accepting, finish requests in flight, close the store.
#include <httplib.h>
#include <pthread.h>
#include <signal.h>

#include <CLI/CLI.hpp>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <iostream>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "analysis/dashboard/site.h"
#include "reports/collector/client_address.h"
#include "reports/collector/collector.h"
#include "reports/collector/rate_limiter.h"
#include "reports/collector/store.h"
#include "reports/control/test_helper.h"
#include "reports/server/http_status.h"
#include "reports/server/json_log.h"
#include "reports/server/listen_address.h"

namespace {

using json = nlohmann::json;
using Clock = std::chrono::steady_clock;
using namespace vantage;

void send_json(httplib::Response& res, int status, const json& body) {
  res.status = status;
  res.set_content(body.dump(-1, ' ', false, json::error_handler_t::replace), "application/json");
}

// Reads the (already gzip-decompressed, by httplib) body through `reader`,
// refusing more than `limit` bytes whatever Content-Length said (chunked
// bodies carry none, and a small gzip body can inflate enormously).
// Returns nullopt after answering 413 or 400 itself.
std::optional<std::string> read_body(const httplib::Request& req, const httplib::ContentReader& reader,
                                     httplib::Response& res, std::size_t limit) {
  std::string body;
  const bool chunked = req.get_header_value("Transfer-Encoding").find("chunked") != std::string::npos;
  if (!chunked && !req.has_header("Content-Length")) return body;  // no body at all
  if (req.has_header("Content-Length")) {
    const std::string length = req.get_header_value("Content-Length");
    if (length.size() > 18 || length.find_first_not_of("0123456789") != std::string::npos ||
        std::stoull(length) > limit) {
      send_json(res, 413, {{"error", "request body larger than " + std::to_string(limit) + " bytes"}});
      return std::nullopt;
    }
  }
  bool too_large = false;
  const bool ok = reader([&](const char* data, std::size_t n) {
    if (body.size() + n > limit) {
      too_large = true;
      return false;
    }
    body.append(data, n);
    return true;
  });
  if (too_large) {
    send_json(res, 413, {{"error", "request body larger than " + std::to_string(limit) + " bytes"}});
    return std::nullopt;
  }
  if (!ok) {
    send_json(res, 400, {{"error", "request body could not be read (truncated, or bad gzip)"}});
    return std::nullopt;
  }
  return body;
}

thread_local std::optional<Clock::time_point> request_start;

struct Settings {
  std::size_t max_body = 1 << 20;
  double rate = 20;
  double burst = 60;
  bool trust_proxy = false;
};

void add_routes(httplib::Server& server, collector::Collector& col, control::ControlOptions& control_options,
                bool serve_control, collector::RateLimiter& limiter, const Settings& settings) {
  // Answers are written as headers then body: without TCP_NODELAY, Nagle
  // and the peer's delayed ACK add ~40 ms to every request.
  server.set_tcp_nodelay(true);
  server.set_payload_max_length(settings.max_body);
  server.set_read_timeout(15, 0);
  server.set_write_timeout(15, 0);
  server.set_pre_routing_handler([&limiter, &settings](const httplib::Request& req, httplib::Response& res) {
    request_start = Clock::now();
    if (req.path == "/health") return httplib::Server::HandlerResponse::Unhandled;
    std::string client = req.remote_addr;
    if (settings.trust_proxy && req.has_header("X-Forwarded-For")) {
      // The proxy appends the address it saw last.
      std::string xff = req.get_header_value("X-Forwarded-For");
      auto comma = xff.rfind(',');
      client = comma == std::string::npos ? xff : xff.substr(comma + 1);
      while (!client.empty() && client.front() == ' ') client.erase(client.begin());
    }
    if (!limiter.allow(client)) {
      res.set_header("Retry-After", std::to_string(limiter.retry_after()));
      send_json(res, 429, {{"error", "too many requests from this client; retry later"}});
      return httplib::Server::HandlerResponse::Handled;
    }
    return httplib::Server::HandlerResponse::Unhandled;
  });
  server.set_logger([](const httplib::Request& req, const httplib::Response& res) {
    json line = {{"event", "request"}, {"method", req.method}, {"path", req.path}, {"status", res.status},
                 {"response_bytes", res.body.size()}};
    if (req.has_header("Content-Encoding")) line["content_encoding"] = req.get_header_value("Content-Encoding");
    if (request_start) {
      line["duration_ms"] =
          std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - *request_start).count();
      request_start.reset();
    }
    if (res.status != 200) {
      const json body = json::parse(res.body, nullptr, false);
      if (body.is_object() && body.contains("error")) line["error"] = body["error"];
    }
    server::log_json_line(std::move(line));
  });
  server.set_error_handler([](const httplib::Request&, httplib::Response& res) {
    if (res.body.empty()) send_json(res, res.status, {{"error", server::http_status_text(res.status, "see the endpoints in vantage-collector --help")}});
  });
  // Handlers must never let an exception reach httplib (it would answer 500
  // with no reason); collector.cpp does not throw, this is the last net.
  server.set_exception_handler([](const httplib::Request&, httplib::Response& res, std::exception_ptr) {
    send_json(res, 500, {{"error", "internal error"}});
  });

  const std::size_t limit = settings.max_body;
  server.Post("/report", [&col, limit](const httplib::Request& req, httplib::Response& res,
                                       const httplib::ContentReader& reader) {
    auto body = read_body(req, reader, res, limit);
    if (!body) return;
    auto reply = col.open_report(*body);
    send_json(res, reply.http_status, reply.body);
  });
  auto client_of = [](const httplib::Request& req) {
    return collector::ClientRequest{req.method, req.remote_addr, req.get_header_value("X-Forwarded-For")};
  };
  server.Post(R"(/report/([^/]+))", [&col, limit, client_of, &settings](const httplib::Request& req, httplib::Response& res,
                                                  const httplib::ContentReader& reader) {
    auto body = read_body(req, reader, res, limit);
    if (!body) return;
    auto reply = col.submit_measurement(req.matches[1], *body, collector::client_address(client_of(req), settings.trust_proxy));
    send_json(res, reply.http_status, reply.body);
  });
  server.Post(R"(/report/([^/]+)/close)", [&col, limit](const httplib::Request& req, httplib::Response& res,
                                                        const httplib::ContentReader& reader) {
    if (!read_body(req, reader, res, limit)) return;  // the body, if any, is ignored
    auto reply = col.close_report(req.matches[1]);
    send_json(res, reply.http_status, reply.body);
  });
  if (serve_control) {
    auto control_handler = [&control_options, limit](const httplib::Request& req, httplib::Response& res,
                                                     const httplib::ContentReader& reader) {
      auto body = read_body(req, reader, res, std::min<std::size_t>(limit, 64 * 1024));
      if (!body) return;
      auto reply = control::handle_control_body(*body, control_options);
      send_json(res, reply.http_status, reply.body);
    };
    server.Post("/", control_handler);
    server.Post("/api/v1/control", control_handler);
  }
  server.Get("/api/v1/whoami", [client_of, &settings](const httplib::Request& req, httplib::Response& res) {
    auto r = collector::whoami(client_of(req), settings.trust_proxy);
    res.status = r.status;
    res.set_content(r.body, r.content_type);
  });
  server.Get("/health", [&col](const httplib::Request&, httplib::Response& res) {
    std::string error;
    if (col.store().healthy(error)) send_json(res, 200, {{"status", "ok"}, {"store", col.store().name()}});
    else send_json(res, 503, {{"status", "unhealthy"}, {"store", col.store().name()}, {"error", error}});
  });
  auto parse_query = [](const httplib::Request& req, collector::MeasurementQuery& q, std::string& error) {
    q.report_id = req.get_param_value("report_id");
    q.test_name = req.get_param_value("test_name");
    q.probe_cc = req.get_param_value("probe_cc");
    q.probe_asn = req.get_param_value("probe_asn");
    q.measurement_uid = req.get_param_value("measurement_uid");
    q.with_body = req.get_param_value("body") == "1";
    if (req.has_param("limit")) {
      const std::string l = req.get_param_value("limit");
      if (l.empty() || l.size() > 6 || l.find_first_not_of("0123456789") != std::string::npos) {
        error = "limit must be a number from 1 to 100000";
        return false;
      }
      q.limit = std::stoul(l);
      if (q.limit < 1 || q.limit > 100000) {
        error = "limit must be a number from 1 to 100000";
        return false;
      }
    }
    return true;
  };
  server.Get("/api/v1/measurements", [&col, parse_query](const httplib::Request& req, httplib::Response& res) {
    collector::MeasurementQuery q;
    std::string error;
    if (!parse_query(req, q, error)) return send_json(res, 400, {{"error", error}});
    auto rows = col.store().query(q, error);
    if (!error.empty()) return send_json(res, 500, {{"error", "store: " + error}});
    json out = json::array();
    for (const auto& m : rows) {
      json row = {{"measurement_uid", m.measurement_uid}, {"report_id", m.report_id}, {"test_name", m.test_name},
                  {"probe_cc", m.probe_cc}, {"probe_asn", m.probe_asn},
                  {"measurement_start_time", m.measurement_start_time}, {"body_sha512", m.body_sha512},
                  {"received", m.received}};
      if (q.with_body) row["measurement"] = json::parse(m.body, nullptr, false);
      out.push_back(std::move(row));
    }
    send_json(res, 200, {{"results", std::move(out)}});
  });
  server.Get("/api/v1/count", [&col, parse_query](const httplib::Request& req, httplib::Response& res) {
    collector::MeasurementQuery q;
    std::string error;
    if (!parse_query(req, q, error)) return send_json(res, 400, {{"error", error}});
    auto n = col.store().count(q, error);
    if (!error.empty()) return send_json(res, 500, {{"error", "store: " + error}});
    send_json(res, 200, {{"count", n}});
  });
}

// The dashboard (analysis/dashboard/site.h) over httplib: pages from
// `assets` (null when there are none), data from `data`.
void add_dashboard_routes(httplib::Server& server, const dashboard::Assets* assets, dashboard::DataSource data) {
  auto handler = [assets, data](const httplib::Request& req, httplib::Response& res) {
    dashboard::Request request{req.method, req.path, {}};
    for (const auto& [k, v] : req.params) request.query.emplace(k, v);
    auto reply = dashboard::serve(request, assets, data);
    res.status = reply.status;
    for (const auto& [k, v] : reply.headers) res.set_header(k, v);
    res.set_content(std::move(reply.body), reply.content_type);
  };
  server.Get("/dashboard", handler);
  server.Get(R"(/dashboard/.*)", handler);
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"vantage-collector: receives measurements (OONI collector protocol), stores them, and serves the\n"
               "control helper. Quick start: vantage-collector --store sqlite:measurements.sqlite"};
  std::string listen = "127.0.0.1:8765";
  std::string store_url = "sqlite:vantage-measurements.sqlite";
  std::string tls_cert, tls_key, collector_name = "1";
  Settings settings;
  int threads = 64;
  bool no_control = false;
  std::string control_ca;
  std::vector<std::string> control_nets;
  bool control_private = false;
  app.add_option("--listen", listen, "ADDR:PORT to listen on (port 0 = any free port)")->capture_default_str();
  app.add_option("--store", store_url, "sqlite:PATH (default) or clickhouse://HOST:PORT[/DATABASE]")
      ->capture_default_str();
  app.add_option("--max-body", settings.max_body, "largest request body, in bytes after gzip decompression (413 beyond)")
      ->capture_default_str()
      ->check(CLI::Range(std::size_t{1024}, std::size_t{64} << 20));
  app.add_option("--rate", settings.rate, "requests per second per client (0 = no limit; 429 beyond)")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 1e6));
  app.add_option("--burst", settings.burst, "requests a client may send at once before --rate applies")
      ->capture_default_str()
      ->check(CLI::Range(1.0, 1e6));
  app.add_flag("--trust-proxy", settings.trust_proxy,
               "behind a reverse proxy: rate-limit by the last X-Forwarded-For address");
  app.add_option("--threads", threads, "worker threads (one per open connection)")
      ->capture_default_str()
      ->check(CLI::Range(1, 1024));
  app.add_option("--tls-cert", tls_cert, "serve HTTPS with this PEM certificate chain")->check(CLI::ExistingFile);
  app.add_option("--tls-key", tls_key, "the PEM private key of --tls-cert")->check(CLI::ExistingFile);
  app.add_option("--collector-name", collector_name, "the n{NAME} part of report ids")->capture_default_str();
  app.add_flag("--no-control", no_control, "do not serve the control helper");
  app.add_option("--control-ca-bundle", control_ca, "extra CA bundle the control helper trusts")
      ->check(CLI::ExistingFile);
  app.add_option("--control-allow-net", control_nets, "CIDR the control helper may connect to (repeatable)");
  app.add_flag("--control-allow-private", control_private,
               "let the control helper connect to loopback/private addresses");
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

  if (tls_cert.empty() != tls_key.empty()) {
    std::cerr << "vantage-collector: --tls-cert and --tls-key go together\n";
    return 2;
  }
  for (char c : collector_name) {
    if (!std::isalnum(static_cast<unsigned char>(c))) {
      std::cerr << "vantage-collector: --collector-name " << collector_name << ": letters and digits only\n";
      return 2;
    }
  }
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
  std::string host;
  int port = 0;
  if (!server::split_listen_address(listen, host, port)) {
    std::cerr << "vantage-collector: --listen " << listen << ": expected ADDR:PORT such as 127.0.0.1:8765\n";
    return 2;
  }
  std::string error;
  auto store = collector::open_store(store_url, error);
  if (!store) {
    std::cerr << "vantage-collector: --store: " << error << "\n";
    return 2;
  }
  collector::CollectorOptions options;
  options.collector_name = collector_name;
  collector::Collector col(*store, options);
  collector::RateLimiter limiter(settings.rate, settings.burst);

  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  signal(SIGPIPE, SIG_IGN);

  std::unique_ptr<httplib::Server> server;
  if (!tls_cert.empty()) {
    auto tls = std::make_unique<httplib::SSLServer>(tls_cert.c_str(), tls_key.c_str());
    if (!tls->is_valid()) {
      std::cerr << "vantage-collector: cannot use --tls-cert " << tls_cert << " / --tls-key " << tls_key << "\n";
      return 2;
    }
    server = std::move(tls);
  } else {
    server = std::make_unique<httplib::Server>();
  }
  server->new_task_queue = [threads] { return new httplib::ThreadPool(static_cast<std::size_t>(threads)); };
  add_routes(*server, col, control_options, !no_control, limiter, settings);
  std::optional<dashboard::Assets> dashboard_pages;
  if (const std::string dir = dashboard_assets.empty() ? dashboard::default_assets_dir() : dashboard_assets;
      !dir.empty()) {
    dashboard_pages = dashboard::Assets::load(dir, error);
    if (!dashboard_pages) {
      std::cerr << "vantage-collector: --dashboard-assets: " << error << "\n";
      return 2;
    }
  }
  add_dashboard_routes(*server, dashboard_pages ? &*dashboard_pages : nullptr,
                       dashboard_data.empty() ? dashboard::DataSource{} : dashboard::data_directory_source(dashboard_data));

  int bound_port = port;
  bool bound = false;
  if (port == 0) {
    bound_port = server->bind_to_any_port(host);
    bound = bound_port > 0;
  } else {
    bound = server->bind_to_port(host, port);
  }
  if (!bound) {
    std::cerr << "vantage-collector: cannot listen on " << listen << "\n";
    return 1;
  }
  const std::string where =
      (host.find(':') != std::string::npos ? "[" + host + "]" : host) + ":" + std::to_string(bound_port);
  server::log_json_line({{"event", "listening"}, {"address", where}, {"store", store->name()}, {"tls", !tls_cert.empty()},
            {"max_body", settings.max_body}, {"rate", settings.rate}, {"burst", settings.burst},
            {"control", !no_control}});

  std::atomic<bool> stopping{false};
  std::thread signal_waiter([&] {
    int signal_number = 0;
    sigwait(&stop_signals, &signal_number);
    if (stopping.exchange(true)) return;
    server::log_json_line({{"event", "stopping"}, {"signal", signal_number == SIGTERM ? "SIGTERM" : "SIGINT"}});
    server->stop();
  });
  // listen_after_bind returns once stop() was called and every worker has
  // finished the request it was serving (the thread pool is joined).
  const bool listened = server->listen_after_bind();
  if (!stopping.exchange(true)) pthread_kill(signal_waiter.native_handle(), SIGTERM);
  signal_waiter.join();
  server.reset();
  store.reset();
  server::log_json_line({{"event", "stopped"}});
  return listened ? 0 : 1;
}
