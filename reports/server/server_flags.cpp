#include "reports/server/server_flags.h"

namespace vantage::server {

void add_server_flags(CLI::App& app, ServerOptions& http, ServerFlags& flags) {
  app.add_option("--threads", http.threads, "polling threads (each serves many connections with epoll)")
      ->capture_default_str()
      ->check(CLI::Range(1u, 256u));
  app.add_option("--workers", http.workers, "threads that run requests (more wait their turn)")
      ->capture_default_str()
      ->check(CLI::Range(1u, 1024u));
  app.add_option("--max-connections", http.max_connections, "open connections in all")
      ->capture_default_str()
      ->check(CLI::Range(1u, 100000u));
  app.add_option("--per-ip-connections", http.per_ip_connections,
                 "open connections per client address (0 = no limit; use 0 behind a proxy)")
      ->capture_default_str()
      ->check(CLI::Range(0u, 100000u));
  app.add_option("--head-timeout", flags.head_timeout, "seconds a client has for the request line and headers")
      ->capture_default_str()
      ->check(CLI::Range(1, 3600));
  app.add_option("--request-timeout", flags.request_timeout, "seconds a client has for a whole request (head and body)")
      ->capture_default_str()
      ->check(CLI::Range(1, 3600));
  app.add_option("--idle-timeout", flags.idle_timeout, "seconds a connection may send nothing (also between requests)")
      ->capture_default_str()
      ->check(CLI::Range(1, 3600));
}

void add_rate_flags(CLI::App& app, double& rate, double& burst, const std::string& prefix, const std::string& what) {
  app.add_option("--" + prefix + "rate", rate, what + " per second per client (0 = no limit; 429 beyond)")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 1e6));
  app.add_option("--" + prefix + "burst", burst, what + " a client may send at once before --" + prefix + "rate applies")
      ->capture_default_str()
      ->check(CLI::Range(1.0, 1e6));
}

void apply_server_flags(const ServerFlags& flags, ServerOptions& http) {
  http.head_timeout = std::chrono::seconds(flags.head_timeout);
  http.request_timeout = std::chrono::seconds(flags.request_timeout);
  http.idle_timeout = std::chrono::seconds(flags.idle_timeout);
}

}  // namespace vantage::server
