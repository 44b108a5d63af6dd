// Small helpers shared by the DNS engines (dns_udp.cpp, dns_doh.cpp,
// dns_getaddrinfo.cpp). Private to probe/net: not part of the primitives'
// interface. Never touches the network.
#pragma once

#include <string>

#include "probe/net/dns_lookup.h"
#include "reports/format/observations.h"

namespace vantage::net {

// "A" or "AAAA": the spelling used in dnst's query_type and answer_type.
const char* query_type_name(QueryType type);

// The failure of a parsed response to a query of `type`: the rcode's failure,
// or "dns_no_answer" when the rcode is NOERROR but no answer of the asked type
// came back; std::nullopt on success.
format::Failure failure_for_parsed_response(const format::DnsObservation& parsed,
                                            QueryType type);

}  // namespace vantage::net
