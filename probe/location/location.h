// The envelope's location fields (probe_asn, probe_cc, probe_network_name,
// resolver_asn, resolver_network_name) from the public addresses the probe
// learnt (public_address.h) and the GeoIP databases (geoip.h), or from the
// volunteer's manual override. Never guesses: what is not known stays
// AS0 / ZZ / "" and `note` says why. Nothing here touches the network, and
// no note ever contains an address.
#pragma once

#include <string>
#include <vector>

namespace vantage::location {

// What `run` is told; the config file's [location] section maps onto it.
struct LocationOptions {
  std::string asn_db;              // .mmdb with autonomous_system_*; "" = none
  std::string country_db;          // .mmdb with country.iso_code; "" = asn_db's
  std::string probe_asn;           // manual override ("AS64500" or "64500"); "" = look up
  std::string probe_cc;            // manual override ("DE"); "" = look up
  std::string probe_network_name;  // manual override; "" = look up
  // A name whose authoritative server answers A with the address of the
  // resolver asking it (the collector operator runs it); looked up through
  // the system resolver, it gives the resolver's public address. "" = use
  // resolv.conf's first nameserver instead.
  std::string resolver_echo_name;
};

// "" or what is wrong with the options (an override that is not an ASN or
// a country code, a database that cannot be opened), naming the option.
std::string check_location_options(const LocationOptions& options);

struct Location {
  std::string probe_asn = "AS0";
  std::string probe_cc = "ZZ";
  std::string probe_network_name;
  std::string resolver_asn = "AS0";
  std::string resolver_network_name;
  std::string source;  // "geoip", "manual", "geoip+manual" or "none"
  std::string note;    // why a field is unknown; "" when everything is known
};

// public_ip / resolver_ip: "" when unknown, with why in *_unknown_reason.
Location locate(const LocationOptions& options, const std::string& public_ip, const std::string& public_ip_unknown_reason,
                const std::string& resolver_ip, const std::string& resolver_unknown_reason);

}  // namespace vantage::location
