// The collector and the address of the client that is talking to it:
//  - GET /api/v1/whoami answers {"ip": "..."}: the address the request came
//    from, so a probe behind a NAT learns its public address (to look up its
//    ASN and country and to scrub it from its measurements). Not stored, not
//    logged.
//  - A submitted measurement that contains the submitting client's own
//    address, in any spelling (reports/format/address_scrub.h), is refused:
//    the probe should have scrubbed it, and publishing it would expose the
//    volunteer. Loopback clients (the collector's own machine) are exempt.
// Behind a reverse proxy (--trust-proxy) the client is the last
// X-Forwarded-For entry, as for rate limits.
//
// Plain functions over small request/response structs: the HTTP server only
// copies fields in and out.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

namespace vantage::collector {

struct ClientRequest {
  std::string method;           // "GET"
  std::string peer_address;     // the TCP peer
  std::string x_forwarded_for;  // "" when absent
};

struct PlainResponse {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
};

// The client's address, normalized (inet_ntop; ::ffff:a.b.c.d as a.b.c.d).
// "" when neither the peer nor (trusted) X-Forwarded-For is an address.
std::string client_address(const ClientRequest& request, bool trust_proxy);

PlainResponse whoami(const ClientRequest& request, bool trust_proxy);

// "" or why `measurement` must be refused: it contains `client_ip`.
std::string own_address_refusal(const nlohmann::json& measurement, const std::string& client_ip);

}  // namespace vantage::collector
