// The control vantage point ("test helper"): from an uncensored place,
// measures what a probe asks about — the DNS lookup of a URL's host, TCP
// connects (and TLS handshakes) to the addresses the probe saw, and the HTTP
// request itself — so the probe can tell "blocked" from "down".
//
// Speaks OONI's web-connectivity helper protocol (reports/control/README.md), plus the
// extensions "x_http_method", "x_http_body" and "x_chain" (measure only the
// endpoint's chain: chain_plan.h). The servers that expose it
// (vantage-testhelper, the collector) only parse, call and reply: all
// validation and policy lives here so they cannot disagree.
//
// Must never: throw, crash or hang on any input (bad input is a 400 answer);
// run past its overall deadline (~14 s); connect to an address the policy
// refuses (loopback, private, link-local, ... unless allowed); take trust
// settings (CA files) from the client.
#pragma once

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "reports/format/ip_address.h"

namespace vantage::control {

// An IP network "a.b.c.d/len" or "v6::/len".
struct IpNetwork {
  std::string text;  // as given, for messages
  ip::Network network;
};

// Parses "198.18.0.0/15", "::1/128" or a bare address (a /32 or /128).
// Returns false (and leaves `out` unspecified) when `text` is not one.
bool parse_ip_network(const std::string& text, IpNetwork& out);

struct ControlOptions {
  // Trust for the helper's own TLS handshakes and HTTPS requests. Server
  // configuration only: a client can never choose it.
  std::string ca_bundle;     // PEM file; "" = none
  bool system_store = true;  // the OS's roots

  // Address policy for every connection the helper makes (tcp_connect, TLS,
  // the HTTP request). When `allowed_networks` is non-empty, only addresses
  // inside one of them are contacted (e.g. the lab's 198.18.0.0/15, or
  // 127.0.0.0/8 in tests). Otherwise every address is allowed except the
  // non-public ones (loopback, RFC 1918, CGN, link-local, benchmarking,
  // multicast, reserved, ULA, v4-mapped forms of those), unless
  // `allow_private` is set.
  std::vector<IpNetwork> allowed_networks;
  bool allow_private = false;

  // Per-step timeouts; the whole request finishes within `overall`.
  std::chrono::milliseconds dns_timeout{4000};
  std::chrono::milliseconds connect_timeout{5000};
  std::chrono::milliseconds tls_timeout{5000};
  std::chrono::milliseconds http_timeout{10000};
  std::chrono::milliseconds overall{14000};

  std::string user_agent = "vantage-testhelper";  // when the client sent none
};

// True when the policy in `options` lets the helper contact `ip` (a literal).
bool address_allowed(const std::string& ip, const ControlOptions& options);

// A POST body (x_http_body) may only be this many zero bytes: the probe's
// shape (it sends 16), never caller-chosen content.
inline constexpr std::size_t kMaxPostBodyBytes = 64;

// The response headers an answer carries (lower-cased names; values cut at
// 512 bytes). Verdicts use none; Location shows where a 3xx leads.
inline constexpr const char* kResponseHeadersKept[] = {"location", "content-type", "content-length"};

// Requests with more tcp_connect entries than this are refused.
inline constexpr std::size_t kMaxTcpConnectEntries = 64;

// Measures what `request` asks for and returns the answer object:
//   {"dns":{"failure","addrs"}, "tcp_connect":{"ip:port":{"status","failure"}},
//    "tls_handshake":{"ip:port":{"server_name","status","failure"}}  (https only),
//    "http_request":{"status_code","body_length","title","headers","failure"},
//    "ip_info":{}}
// An invalid request (wrong types, bad URL, more than kMaxTcpConnectEntries
// entries, an address that is not an "ip:port" literal, a client-chosen trust
// setting) returns {"error": "<what and where>"} instead — a valid answer
// never has an "error" key. Refused addresses are not an error: their entries
// carry the failure "unknown_failure: address_refused_by_control_policy".
//
// Choices where §6 leaves room: the HTTP request is never redirected (a
// redirect could lead past the address policy; the 3xx and its Location are
// the answer); for https it is pinned to the first requested endpoint on the
// URL's port that connected (any port if none is on it), otherwise to the
// first allowed address of the helper's own lookup; of the client's headers
// none are forwarded (the helper's own User-Agent is sent); only the
// response headers in kResponseHeadersKept are returned;
// a "tls_handshake" entry exists only for endpoints that connected.
nlohmann::json handle_control_request(const nlohmann::json& request, const ControlOptions& options);

// What a server sends back for one POST body: the HTTP status and the JSON to
// send. Parses `body` (malformed JSON is a 400), then calls
// handle_control_request: 200 with the answer, 400 with {"error"} for bad
// input, 500 with {"error": "internal error: ..."} only when the helper
// itself ran out of resources.
struct ControlReply {
  int http_status = 200;
  nlohmann::json body;
};
ControlReply handle_control_body(std::string_view body, const ControlOptions& options);

// The failure string of an entry the address policy refused.
inline constexpr const char* kRefusedByPolicy = "unknown_failure: address_refused_by_control_policy";

}  // namespace vantage::control
