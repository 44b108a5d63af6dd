// DNS primitives. Each returns observations; none writes JSON or throws on
// network failure.
//
//  - lookup_getaddrinfo: the system resolver (what the volunteer's apps use),
//    bounded by a timeout even though getaddrinfo itself has none.
//  - query_udp: one query to a chosen resolver over UDP, built and parsed with
//    c-ares. It keeps the socket open for `hold` after the first response and
//    records *every* response with its arrival time and IP TTL (IP_RECVTTL):
//    that is how a forged answer racing the real one is seen.
//  - query_doh: DNS over HTTPS (RFC 8484, POST application/dns-message) via
//    libcurl.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "probe/net/step_clock.h"
#include "reports/format/observations.h"

namespace vantage::net {

enum class QueryType { A, AAAA };

// The system resolver's retransmission, set once before any thread starts
// (it works through the RES_OPTIONS environment variable, which glibc reads
// on its first lookup). glibc waits 5 s before sending a lost query again,
// so on a lossy link one lost packet held every test back by 5 s; this
// makes it 2 s, 4 tries (8 s in all, past the probe's own 7 s DNS timeout,
// so a resolver that never answers is still a timeout, not glibc's
// EAI_AGAIN). Leaves everything alone when RES_OPTIONS is set or
// `resolv_conf` already sets `timeout:` or `attempts:`: those are the
// volunteer's choice. Returns the options set, or "" when it set none.
std::string tune_system_resolver_retransmission(const std::string& resolv_conf = "/etc/resolv.conf");

format::DnsObservation lookup_getaddrinfo(const std::string& hostname,
                                          std::chrono::milliseconds timeout,
                                          const StepContext& ctx);

// Many system lookups at once with one waiter. Each runs in a detached
// thread of its own (getaddrinfo can neither time out nor be cancelled) that
// only touches state it shares with this object, so it may finish after the
// object is gone; the caller's one thread collects them in the order they
// finish or time out. lookup_getaddrinfo is this with one name.
class SystemLookups {
 public:
  // What each thread runs; empty = getaddrinfo. Only unit tests replace it.
  using LookupFn = std::function<format::DnsObservation(const std::string& hostname, std::chrono::milliseconds timeout,
                                                        const StepContext& ctx)>;
  explicit SystemLookups(LookupFn lookup = {});
  ~SystemLookups();
  SystemLookups(const SystemLookups&) = delete;
  SystemLookups& operator=(const SystemLookups&) = delete;

  // Starts looking `hostname` up now; `tag` comes back with its result. A
  // thread that cannot be started is a failure at once (errno's string).
  void start(std::size_t tag, const std::string& hostname, std::chrono::milliseconds timeout, const StepContext& ctx);

  struct Result {
    std::size_t tag;
    format::DnsObservation observation;  // generic_timeout_error once its timeout passed
  };
  // The next lookup to finish or time out, waiting for it; nothing when no
  // lookup is pending.
  std::optional<Result> next();
  // A lookup that has finished already, without waiting; nothing if none.
  std::optional<Result> next_finished();

 private:
  struct Shared;
  std::shared_ptr<Shared> shared_;
  LookupFn lookup_;
};

struct UdpQueryOptions {
  std::string resolver;  // "ip:port" or "ip" (port 53)
  QueryType type = QueryType::A;
  std::chrono::milliseconds timeout{4000};  // until the first response
  std::chrono::milliseconds hold{0};        // listen on after the first one
  // Until a response with our id arrives, the same query (same id) is sent
  // again this often, as a stub resolver does: one lost packet on a lossy
  // link then costs this long, not the whole timeout. 0 = send once.
  std::chrono::milliseconds resend_every{1000};
};

// Returns one observation per response packet received (tag "x_hold_on" on
// those after the first), or a single observation with the failure when none
// arrived (generic_timeout_error) or the socket failed. A query sent more
// than once has the tag "x_resent" on its observations.
std::vector<format::DnsObservation> query_udp(const std::string& hostname,
                                              const UdpQueryOptions& options,
                                              const StepContext& ctx);

// The same for many names at once, on one thread: every query is sent at
// the start and all are held concurrently by one poll loop, so the whole
// batch takes one timeout (+ hold), not one per wave of threads. Results are
// in the order of `queries`, each as query_udp would return it.
struct UdpQuery {
  std::string hostname;
  StepContext ctx;
};
std::vector<std::vector<format::DnsObservation>> query_udp_many(const std::vector<UdpQuery>& queries,
                                                                const UdpQueryOptions& options);

struct DohQueryOptions {
  std::string url;  // e.g. https://dns.example/dns-query
  QueryType type = QueryType::A;
  std::chrono::milliseconds timeout{5000};
  std::string ca_bundle;  // PEM file; empty = system store
};

format::DnsObservation query_doh(const std::string& hostname, const DohQueryOptions& options,
                                 const StepContext& ctx);

// Parses a DNS response (bytes) into answers and rcode; used by query_udp,
// query_doh and the capture decoders. Returns false if the message is
// malformed (then `failure` is set to "dns_server_misbehaving").
bool parse_dns_response(const std::string& message, format::DnsObservation& out);

// Builds a standard recursive query for hostname with the given id. Returns
// "" if hostname cannot be encoded (e.g. a label longer than 63 bytes).
std::string build_dns_query(const std::string& hostname, QueryType type, uint16_t id);

}  // namespace vantage::net
