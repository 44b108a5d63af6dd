// DNS wire format: building queries (c-ares ares_create_query) and parsing
// responses into dnst answers. Pure functions on bytes: never touches the
// network, never trusts a length or a compression pointer it has not checked
// (names are expanded by c-ares' ares_expand_name, which rejects pointer loops
// and out-of-bounds pointers).
//
// Answers are read record by record rather than through ares_parse_a_reply:
// that function drops records whose owner name is not the question's (an
// injected answer often is exactly that) and lowers an address's TTL to the
// TTL of the CNAMEs before it; here every A, AAAA and CNAME record is kept
// with the TTL it had on the wire, because that is the evidence.
#include <arpa/inet.h>
#include <ares.h>
#include <ares_dns.h>

#include <cstdint>
#include <string>

#include "probe/net/dns_internal.h"
#include "probe/net/dns_lookup.h"
#include "probe/net/failure.h"

namespace vantage::net {

namespace {

constexpr size_t kHeaderSize = 12;
constexpr int kTypeA = 1;
constexpr int kTypeCname = 5;
constexpr int kTypeAaaa = 28;
constexpr int kClassIn = 1;

uint16_t read_u16(const unsigned char* p) { return static_cast<uint16_t>((p[0] << 8) | p[1]); }

uint32_t read_u32(const unsigned char* p) {
  return (static_cast<uint32_t>(p[0]) << 24) | (static_cast<uint32_t>(p[1]) << 16) |
         (static_cast<uint32_t>(p[2]) << 8) | static_cast<uint32_t>(p[3]);
}

// Reads a (possibly compressed) name at `pos`; advances `pos` past its
// encoding in the record. Returns false if the name is malformed.
bool read_name(const unsigned char* msg, size_t len, size_t& pos, std::string* name) {
  if (pos >= len) return false;
  char* expanded = nullptr;
  long encoded_length = 0;
  if (ares_expand_name(msg + pos, msg, static_cast<int>(len), &expanded, &encoded_length) !=
      ARES_SUCCESS) {
    return false;
  }
  if (name != nullptr) *name = expanded;
  ares_free_string(expanded);
  if (encoded_length <= 0 || pos + static_cast<size_t>(encoded_length) > len) return false;
  pos += static_cast<size_t>(encoded_length);
  return true;
}

// Walks one resource record at `pos`. When `answers` is given, A, AAAA and
// CNAME records of class IN are appended to it.
bool read_record(const unsigned char* msg, size_t len, size_t& pos,
                 std::vector<format::DnsAnswer>* answers) {
  if (!read_name(msg, len, pos, nullptr)) return false;
  if (len - pos < 10) return false;
  const int type = read_u16(msg + pos);
  const int rclass = read_u16(msg + pos + 2);
  const uint32_t ttl = read_u32(msg + pos + 4);
  const size_t rdlength = read_u16(msg + pos + 8);
  pos += 10;
  if (len - pos < rdlength) return false;
  const size_t rdata = pos;
  pos += rdlength;
  if (answers == nullptr || rclass != kClassIn) return true;

  format::DnsAnswer answer;
  answer.ttl = ttl;
  if (type == kTypeA) {
    if (rdlength != 4) return false;
    char text[INET_ADDRSTRLEN];
    inet_ntop(AF_INET, msg + rdata, text, sizeof(text));
    answer.answer_type = "A";
    answer.ipv4 = text;
  } else if (type == kTypeAaaa) {
    if (rdlength != 16) return false;
    char text[INET6_ADDRSTRLEN];
    inet_ntop(AF_INET6, msg + rdata, text, sizeof(text));
    answer.answer_type = "AAAA";
    answer.ipv6 = text;
  } else if (type == kTypeCname) {
    size_t target = rdata;
    if (!read_name(msg, len, target, &answer.hostname)) return false;
    if (target != rdata + rdlength) return false;  // name must fill the rdata
    answer.answer_type = "CNAME";
  } else {
    return true;  // other types are not dnst answers; skipped, not an error
  }
  answers->push_back(std::move(answer));
  return true;
}

bool parse_sections(const unsigned char* msg, size_t len, format::DnsObservation& out) {
  if (len < kHeaderSize) return false;
  const uint16_t flags = read_u16(msg + 2);
  if ((flags & 0x8000) == 0) return false;  // QR clear: a query, not a response
  const int question_count = read_u16(msg + 4);
  const int answer_count = read_u16(msg + 6);
  const int other_count = read_u16(msg + 8) + read_u16(msg + 10);

  out.query_id = read_u16(msg);
  out.rcode = flags & 0x000f;

  size_t pos = kHeaderSize;
  for (int i = 0; i < question_count; ++i) {
    if (!read_name(msg, len, pos, nullptr)) return false;
    if (len - pos < 4) return false;
    pos += 4;
  }
  std::vector<format::DnsAnswer> answers;
  for (int i = 0; i < answer_count; ++i) {
    if (!read_record(msg, len, pos, &answers)) return false;
  }
  // Authority and additional records are not reported, but a message whose
  // counts promise more records than it holds is malformed all the same.
  for (int i = 0; i < other_count; ++i) {
    if (!read_record(msg, len, pos, nullptr)) return false;
  }
  out.answers = std::move(answers);
  return true;
}

}  // namespace

const char* query_type_name(QueryType type) { return type == QueryType::AAAA ? "AAAA" : "A"; }

format::Failure failure_for_parsed_response(const format::DnsObservation& parsed,
                                            QueryType type) {
  const std::string by_rcode = failure_from_rcode(parsed.rcode.value_or(0));
  if (!by_rcode.empty()) return by_rcode;
  const std::string wanted = query_type_name(type);
  for (const auto& answer : parsed.answers) {
    if (answer.answer_type == wanted) return std::nullopt;
  }
  return "dns_no_answer";
}

bool parse_dns_response(const std::string& message, format::DnsObservation& out) {
  out.raw_response = message;
  out.answers.clear();
  out.rcode.reset();
  out.query_id.reset();
  const auto* bytes = reinterpret_cast<const unsigned char*>(message.data());
  if (!parse_sections(bytes, message.size(), out)) {
    out.answers.clear();
    out.failure = "dns_server_misbehaving";
    return false;
  }
  return true;
}

std::string build_dns_query(const std::string& hostname, QueryType type, uint16_t id) {
  unsigned char* buffer = nullptr;
  int length = 0;
  const int dns_type = type == QueryType::AAAA ? kTypeAaaa : kTypeA;
  // max_udp_size 0: no EDNS0 record, the plainest query a stub would send.
  if (ares_create_query(hostname.c_str(), kClassIn, dns_type, id, /*rd=*/1, &buffer, &length,
                        /*max_udp_size=*/0) != ARES_SUCCESS) {
    return "";
  }
  std::string query(reinterpret_cast<const char*>(buffer), static_cast<size_t>(length));
  ares_free_string(buffer);
  return query;
}

}  // namespace vantage::net
