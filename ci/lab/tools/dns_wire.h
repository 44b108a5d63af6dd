// dns_wire.h — just enough of the DNS wire format (RFC 1035) for an on-path
// injector: read the question of a query, write a forged answer to it.
//
// Never reads outside the given span; never follows compression pointers in a
// query (queries do not use them; a pointer makes the query "unparseable").
#ifndef VANTAGE_CI_LAB_TOOLS_DNS_WIRE_H_
#define VANTAGE_CI_LAB_TOOLS_DNS_WIRE_H_

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "packet.h"

namespace lab {

struct DnsQuery {
  uint16_t id = 0;
  uint16_t flags = 0;
  std::string qname;  // dotted, as sent (case preserved), no trailing dot; "" = root
  uint16_t qtype = 0;
  uint16_t qclass = 0;
  Bytes question;  // the raw first question: QNAME + QTYPE + QCLASS
};

// The first question of a standard query (QR=0, OPCODE=0, QDCOUNT>=1), or
// nullopt for a response, another opcode, or a truncated/malformed message.
std::optional<DnsQuery> ParseDnsQuery(Bytes message);

// A response with the query's id and first question and exactly one answer:
// the question's name, type A, class IN, the given TTL, `address` (IPv4).
// RD is copied, RA set, AA clear, RCODE NOERROR — like a recursive resolver.
std::vector<uint8_t> BuildForgedAResponse(const DnsQuery& query, const IpAddress& address,
                                          uint32_t ttl_seconds);

}  // namespace lab

#endif  // VANTAGE_CI_LAB_TOOLS_DNS_WIRE_H_
