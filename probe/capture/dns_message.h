// DNS message reader for captured packets: the id, the question and the
// answers of a query or response seen on the wire.
//
// Separate from probe/net's c-ares based parser because capture must read
// queries as well as responses, must accept a message cut short by the
// snaplen (whatever was decoded before the cut is kept) and must not pull
// c-ares into the fuzzed decoders. Never throws; follows at most 64
// compression pointers per name and never reads past the buffer.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace vantage::capture {

struct DnsWireAnswer {
  std::string type;   // "A", "AAAA", "CNAME" or "TYPE<n>"
  std::string value;  // address text or name; "" for other types
  uint32_t ttl = 0;
};

struct DnsWireMessage {
  uint16_t id = 0;
  bool response = false;
  int rcode = 0;
  std::string qname;   // lower case, no trailing dot; "" when there is no question
  uint16_t qtype = 0;
  std::vector<DnsWireAnswer> answers;
  bool complete = false;  // every section the header announces was read
};

// One label (or an SNI) in DNS presentation form, lower-cased: bytes that
// are not printable ASCII, '.', '\\' and '"' become "\\DDD", so that what
// comes off the wire is always valid UTF-8 and never breaks a name apart.
std::string escape_name(std::string_view label);

// False when not even the 12-byte header and the question could be read.
bool parse_dns_wire(std::string_view message, DnsWireMessage& out);

}  // namespace vantage::capture
