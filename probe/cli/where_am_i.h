// `vantage run`'s "where am I" step, before measuring: the public address
// (asked from the configured collector, through the upload proxy, bounded
// in time), the resolver's address (from the echo name when one is given,
// else resolv.conf), and from them and the GeoIP
// databases (or the manual override) the envelope's location fields.
// The public address is returned only to be scrubbed; it is never written
// anywhere or printed.
#pragma once

#include <chrono>
#include <string>

#include "probe/location/location.h"
#include "reports/format/measurement.h"

namespace vantage::cli {

struct WhereAmI {
  location::Location location;
  std::string public_ip;    // "" when unknown: scrub it, never write it
  std::string resolver_ip;  // the system resolver, published as resolver_ip
};

WhereAmI where_am_i(const location::LocationOptions& options, const std::string& collector_url,
                    const std::string& proxy, std::chrono::milliseconds timeout);

// Sets probe_asn/cc/network_name, resolver_* and the x_location_* annotations.
void apply_location(format::Envelope& envelope, const WhereAmI& where);

// One line for the run's summary: "network: AS64512 (Lab ISP), DE" or why unknown.
std::string location_summary(const WhereAmI& where);

}  // namespace vantage::cli
