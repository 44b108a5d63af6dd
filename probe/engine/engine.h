// The measurement engine: turns catalog services into step chains
// (resolve → connect → [app exchange | TLS handshake → HTTP request]) and runs them all
// concurrently on a bounded pool.
//
// Contract:
//  - every host is resolved once (system resolver), except an address
//    literal (catalog::is_address_literal), which is measured at that
//    address with no lookup and no hold-on query at all; every distinct chain
//    (ip, port, kind, server name, request) is measured once and shared by
//    the endpoints that need it;
//  - each step has its own timeout and the run has one overall deadline, so
//    a black-holed network costs one timeout plus one retry, not the sum;
//  - a step that times out is retried once (new transaction id; the first
//    attempt's observations are kept, tagged "x_retried");
//  - when `interrupted` is set (Ctrl-C) or the deadline passes, chains not
//    yet started are recorded as "interrupted" and the run returns what it
//    measured;
//  - with a control URL, the control vantage point is asked while the
//    measurement runs (control_queue.h): about a chain as soon as its first
//    attempt fails, at once about web chains (always compared), about a
//    name as soon as its lookup fails; one question per distinct chain
//    (address:port, chain, name/URL), the helper measuring that chain only;
//    x_control records one answer per endpoint and whether the control
//    could be reached.
//  - IPv6: when the host can reach IPv6 (net/ipv6_connectivity.h, decided
//    once per run, at the first AAAA answer, without a packet), each name's
//    first `max_ipv6_per_host` usable AAAA addresses are measured beside its
//    A ones, in parallel, as chains of their own; when it cannot, no IPv6
//    address is connected to, and each service's Ipv6Record says why once
//    (instead of network_unreachable failures that are no censorship).
// The engine returns observations; testkeys/ turns them into test_keys. It
// never writes JSON to disk and never decides verdicts.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <optional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "probe/capture/capture_session.h"
#include "probe/catalog/catalog.h"
#include "probe/net/ipv6_connectivity.h"
#include "probe/net/step_clock.h"
#include "reports/format/observations.h"
#include "reports/format/plan.h"

namespace vantage::engine {

struct EngineOptions {
  int parallelism = 128;
  // Longer than glibc's own retransmission (5 s), so one lost query or
  // answer on a lossy link is not a DNS failure.
  std::chrono::milliseconds dns_timeout{7000};
  std::chrono::milliseconds connect_timeout{5000};
  std::chrono::milliseconds tls_timeout{5000};
  std::chrono::milliseconds http_timeout{10000};
  // An application-level exchange (catalog "exchange"): from the last byte
  // sent until the first byte back.
  std::chrono::milliseconds exchange_timeout{5000};
  std::chrono::milliseconds throughput_window{3000};
  std::chrono::milliseconds deadline{120000};  // whole run
  std::size_t max_ips_per_host = 4;    // IPv4 addresses measured per name
  std::size_t max_ipv6_per_host = 1;   // IPv6 addresses measured per name (0: IPv6 never measured)
  // Whether the host can reach this IPv6 destination; empty =
  // net::ipv6_connectivity. Only unit tests replace it.
  std::function<net::Ipv6Connectivity(const std::string& destination)> ipv6_connectivity;
  // Besides the system lookup, each name is also asked over UDP straight to
  // this resolver ("ip" or "ip:port"; default: the first nameserver of
  // /etc/resolv.conf), keeping the socket open `dns_hold` after the first
  // answer: that is how an injected answer racing the real one is seen.
  // "" disables it.
  std::string udp_resolver = "system";
  std::chrono::milliseconds dns_hold{400};
  std::string ca_bundle;    // extra trusted CAs (--ca-bundle)
  // The system lookup of one name; empty = net::lookup_getaddrinfo. Only
  // unit tests replace it (names resolved without any resolver).
  std::function<format::DnsObservation(const std::string& name, std::chrono::milliseconds timeout,
                                       const net::StepContext& ctx)>
      system_lookup;
  // Asks the control vantage point (OONI test-helper request → answer, or
  // {"failure": ...}); empty = no control. Called concurrently.
  // The second argument is the time left before the run's deadline.
  std::function<nlohmann::json(const nlohmann::json& request, std::chrono::milliseconds left)> control;
  std::string control_url;  // recorded in x_control
  // Bogon answers (private, loopback, ...) are never connected to; only unit
  // tests on loopback turn this off.
  bool reject_bogons = true;
  // When set, the engine tells the capture which flows are the probe's
  // (resolvers before the DNS phase, service addresses before connecting)
  // and which endpoint each belongs to. The caller opens and finishes it.
  capture::CaptureSession* capture = nullptr;
  const std::atomic<bool>* interrupted = nullptr;
  // Called (from worker threads, serialized) as chains finish.
  std::function<void(const std::string& service, const std::string& what, const std::string& failure)> progress;
};

// x_ipv6: whether the run measured IPv6, said once per service.
struct Ipv6Record {
  // null: not decided (no name of the run had an AAAA answer, or IPv6 is
  // off by max_ipv6_per_host = 0).
  std::optional<bool> usable;
  std::string reason;  // why not usable (net::kIpv6*), "no_aaaa_answer" or "disabled"; "" when usable
  int addresses = 0;   // IPv6 addresses of this service measured
};

// Everything one service's measurement is made of.
struct ServiceObservations {
  std::vector<format::DnsObservation> queries;
  std::vector<format::TcpConnectObservation> tcp_connect;
  std::vector<format::TlsHandshakeObservation> tls_handshakes;
  std::vector<format::HttpObservation> requests;
  std::vector<format::AppExchangeObservation> app_exchanges;  // x_app_exchanges
  std::vector<format::NetworkEvent> network_events;
  std::vector<format::PlannedEndpoint> endpoints;  // x_endpoints (the plan and its transactions)
  std::optional<format::ControlRecord> control;     // x_control; none when no control was used
  Ipv6Record ipv6;                                  // x_ipv6
};

struct RunResult {
  std::map<std::string, ServiceObservations> services;  // by service name, canary included
  std::chrono::system_clock::time_point start_time;
  double runtime = 0;
  bool interrupted = false;
};

// Runs the given services (names from the catalog) plus the catalog's canary.
RunResult run(const catalog::Catalog& catalog, const std::vector<std::string>& services,
              const EngineOptions& options);

}  // namespace vantage::engine
