// dns_wire.cpp — DNS query question parser and forged A-response builder.
#include "dns_wire.h"

namespace lab {

std::optional<DnsQuery> ParseDnsQuery(Bytes message) {
  if (message.size() < 12) return std::nullopt;
  DnsQuery query;
  query.id = ReadU16(message, 0);
  query.flags = ReadU16(message, 2);
  if ((query.flags & 0x8000) != 0) return std::nullopt;         // a response
  if (((query.flags >> 11) & 0x0f) != 0) return std::nullopt;   // not QUERY
  if (ReadU16(message, 4) == 0) return std::nullopt;            // no question

  size_t at = 12;
  for (;;) {
    if (at >= message.size()) return std::nullopt;
    const size_t label_length = message[at];
    if (label_length == 0) { ++at; break; }
    if (label_length > 63) return std::nullopt;  // pointer or reserved label type
    if (at + 1 + label_length > message.size()) return std::nullopt;
    if (!query.qname.empty()) query.qname.push_back('.');
    query.qname.append(reinterpret_cast<const char*>(&message[at + 1]), label_length);
    if (query.qname.size() > 253) return std::nullopt;
    at += 1 + label_length;
  }
  if (at + 4 > message.size()) return std::nullopt;
  query.qtype = ReadU16(message, at);
  query.qclass = ReadU16(message, at + 2);
  query.question = message.subspan(12, at + 4 - 12);
  return query;
}

std::vector<uint8_t> BuildForgedAResponse(const DnsQuery& query, const IpAddress& address,
                                          uint32_t ttl) {
  std::vector<uint8_t> out;
  out.reserve(12 + query.question.size() + 16);
  auto u16 = [&](uint16_t v) { out.push_back(static_cast<uint8_t>(v >> 8)); out.push_back(static_cast<uint8_t>(v)); };
  const uint16_t flags = 0x8000                      // QR: response
                         | (query.flags & 0x0100)    // RD copied
                         | 0x0080;                   // RA; AA clear, RCODE 0
  u16(query.id);
  u16(flags);
  u16(1);  // QDCOUNT
  u16(1);  // ANCOUNT
  u16(0);  // NSCOUNT
  u16(0);  // ARCOUNT: no EDNS, as simple injectors do
  out.insert(out.end(), query.question.begin(), query.question.end());
  u16(0xc00c);  // name: pointer to the question's QNAME at offset 12
  u16(1);       // TYPE A, whatever was asked (as the GFW's injector answers)
  u16(1);       // CLASS IN
  u16(static_cast<uint16_t>(ttl >> 16));
  u16(static_cast<uint16_t>(ttl));
  u16(4);
  out.insert(out.end(), address.bytes.begin(), address.bytes.begin() + 4);
  return out;
}

}  // namespace lab
