// The volunteer's public address as the Internet sees it (behind a NAT it is
// not any address of this machine), and the resolver's address: needed to
// look up probe_asn/probe_cc (location.h) and to scrub them from
// measurements. Neither is ever written into a measurement.
//
// Public address: GET {collector}/api/v1/whoami answers {"ip": "..."} — the
// address the collector saw the request come from (behind a trusted reverse
// proxy, the one the proxy saw). Asked through the upload's proxy, bounded
// in time, redirects never followed, TLS always verified. Behind a proxy or
// Tor the answer is the proxy's exit: the lookup then places the exit, which
// is what a collector would see anyway (README "Where am I").
//
// Resolver address: the first nameserver of /etc/resolv.conf (the one the
// system's lookups use). A local stub (127.0.0.53, a home router on a
// private address) is reported as unknown: its upstream is not learnt (no
// echo lookup of a name whose authoritative server answers the querying
// resolver's address is made).
#pragma once

#include <chrono>
#include <string>
#include <vector>

namespace vantage::location {

struct WhoamiOptions {
  std::string collector_url;  // http(s)://host[:port][/prefix]
  std::string proxy;          // as for uploads; "" = direct
  std::string ca_bundle;      // PEM trusted instead of the system roots; "" = system
  std::chrono::milliseconds timeout{5000};  // the whole request
};

struct AddressAnswer {
  std::string ip;       // normalized (inet_ntop); "" when unknown
  std::string failure;  // why it is unknown (never contains an address)
};

AddressAnswer ask_public_address(const WhoamiOptions& options);

// The system resolver's address from resolv.conf-format text, "" with
// `failure` when there is none or it is local.
AddressAnswer system_resolver_address(const std::string& resolv_conf_path = "/etc/resolv.conf");

// Whether `ip` is a global unicast address (not loopback, private, link-local,
// unspecified, multicast, ULA, CGNAT). The lab's 198.18.0.0/15 counts as global.
bool is_global_address(const std::string& ip);

// Every address of this machine's interfaces but loopback (getifaddrs),
// without zone suffixes: what is scrubbed besides the public address.
std::vector<std::string> machine_addresses();

// inet_ntop of inet_pton(ip), "" if `ip` is not an address.
std::string normalize_ip(const std::string& ip);

}  // namespace vantage::location
