// Observation records: what each measurement step saw, in memory.
//
// Primitives in probe/net fill these; observations_json.{h,cpp} turns them
// into OONI's archival sub-formats (dnst, tcpconnect, tlshandshake, httpt,
// netevents). Times are seconds since the measurement's start. A failure is
// an OONI failure string (df-007) or empty for success — never free text
// except "unknown_failure: ...". This header never depends on the network
// code and never writes JSON.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace vantage::format {

using Failure = std::optional<std::string>;
using HeaderList = std::vector<std::pair<std::string, std::string>>;

struct StepTimes {
  double t0 = 0;  // start, seconds since measurement start
  double t = 0;   // end
  int64_t transaction_id = 0;
  std::vector<std::string> tags;
};

struct DnsAnswer {
  std::string answer_type;  // "A", "AAAA", "CNAME"
  std::string ipv4;
  std::string ipv6;
  std::string hostname;
  uint32_t ttl = 0;
};

// One DNS round trip, or — for the hold-on UDP engine — one response packet.
struct DnsObservation : StepTimes {
  std::string engine;            // getaddrinfo | udp | tcp | doh | dot
  std::string resolver_address;  // "ip:port", or DoH URL, or "" (system)
  std::string hostname;
  std::string query_type;  // A | AAAA | ANY
  Failure failure;
  std::optional<int> getaddrinfo_error;
  std::optional<int> rcode;
  std::string raw_response;  // the DNS message bytes (not base64)
  std::vector<DnsAnswer> answers;
  std::optional<int> ip_ttl;        // IP TTL of the response packet (x_ip_ttl)
  std::optional<uint16_t> query_id; // DNS id of the query this answers
};

struct TcpConnectObservation : StepTimes {
  std::string ip;
  int port = 0;
  Failure failure;
};

struct TlsHandshakeObservation : StepTimes {
  std::string network = "tcp";
  std::string address;  // "ip:port"
  std::string server_name;
  std::vector<std::string> alpn;  // offered
  std::string cipher_suite;
  std::string tls_version;
  std::string negotiated_protocol;
  bool no_tls_verify = false;
  std::vector<std::string> peer_certificates;  // DER bytes, leaf first
  Failure failure;
};

struct HttpBody {
  std::string data;  // raw bytes
  bool truncated = false;
};

struct HttpObservation : StepTimes {
  std::string network = "tcp";
  std::string address;  // "ip:port" actually connected
  std::string alpn;
  Failure failure;
  std::string url;
  std::string method = "GET";
  HeaderList request_headers;
  HttpBody request_body;
  std::optional<int> status_code;
  HeaderList response_headers;
  HttpBody response_body;
  uint64_t body_bytes_received = 0;  // total, even past truncation
  double download_seconds = 0;       // time spent receiving the body
  // From the last body byte to the end of the transfer (-1: no body): a
  // timed-out body that was still flowing has a small one, a stalled one not.
  double body_stall_seconds = -1;
  // Why the probe stopped reading early: "window" (the time-bounded
  // throughput sample ended), "size" (max_download), "" (it did not).
  std::string download_stopped;
};

// One application-level exchange (x_app_exchanges, Vantage's own): on a
// connected socket, the app's opening bytes were sent and what came back
// within a bounded time and size was read. A reply of any bytes is a
// success (failure empty), even if the server closed after them; a reset,
// a close before any byte or silence until the timeout is the failure.
struct AppExchangeObservation : StepTimes {
  std::string address;   // "ip:port"
  std::string exchange;  // the catalog's exchange name, e.g. "whatsapp_noise"
  uint64_t sent_bytes = 0;
  uint64_t received_bytes = 0;
  std::string received_head;  // the first bytes received (at most 16)
  bool closed_by_peer = false;  // the server closed (FIN) after its bytes
  Failure failure;
};

struct NetworkEvent {
  double t = 0;
  int64_t transaction_id = 0;
  std::string operation;  // connect, read, write, resolve_start, ...
  std::string address;
  std::string proto;
  std::optional<int64_t> num_bytes;
  Failure failure;
  std::vector<std::string> tags;
};

}  // namespace vantage::format
