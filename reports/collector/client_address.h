// The collector and the address of the client that is talking to it:
//  - GET /api/v1/whoami answers {"ip": "..."}: the address the request came
//    from, so a probe behind a NAT learns its public address (to look up its
//    ASN and country and to scrub it from its measurements). Not stored, not
//    logged.
//  - A submitted measurement that contains the submitting client's own
//    address, in any spelling (reports/format/address_scrub.h), is refused:
//    the probe should have scrubbed it, and publishing it would expose the
//    volunteer. Loopback clients (the collector's own machine) are exempt.
// Behind reverse proxies (--trust-proxy) the client is the first
// X-Forwarded-For hop, from the right, that no trusted proxy added: the one
// place that reads the header (rate limits, whoami and the own-address
// check all use it).
//
// Plain functions over plain values: the HTTP server only copies fields in
// and out.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace vantage::collector {

struct PlainResponse {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
};

// The client's address, normalized (inet_ntop; ::ffff:a.b.c.d as a.b.c.d).
// `x_forwarded_for` is read only when `peer` is one of `trusted_proxies`.
// "" when the chosen hop is not an address (a proxy sending garbage).
std::string client_address(const std::string& peer, const std::string& x_forwarded_for,
                           const std::vector<std::string>& trusted_proxies);

// GET /api/v1/whoami for a client at `client_ip` (client_address's answer).
PlainResponse whoami(const std::string& method, const std::string& client_ip);

// "" or why `measurement` must be refused: it contains `client_ip`.
std::string own_address_refusal(const nlohmann::json& measurement, const std::string& client_ip);

}  // namespace vantage::collector
