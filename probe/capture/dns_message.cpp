// DNS message reader for captured packets. See dns_message.h.
#include "probe/capture/dns_message.h"

#include <arpa/inet.h>

#include <cstdio>

#include "probe/capture/be_bytes.h"

namespace vantage::capture {
namespace {

// Reads the name at `pos`; on success `pos` is just past its encoding in the
// record (not past the target of a compression pointer).
bool read_name(const uint8_t* msg, size_t len, size_t& pos, std::string& name) {
  name.clear();
  size_t cursor = pos;
  bool jumped = false;
  int pointers = 0;
  while (true) {
    if (cursor >= len) return false;
    const uint8_t label = msg[cursor];
    if (label == 0) {
      if (!jumped) pos = cursor + 1;
      return true;
    }
    if ((label & 0xc0) == 0xc0) {
      if (cursor + 1 >= len || ++pointers > 64) return false;
      const size_t target = static_cast<size_t>((label & 0x3f) << 8 | msg[cursor + 1]);
      if (!jumped) pos = cursor + 2;
      jumped = true;
      cursor = target;
      continue;
    }
    if ((label & 0xc0) != 0) return false;  // reserved label types
    if (cursor + 1 + label > len) return false;
    if (!name.empty()) name.push_back('.');
    name += escape_name(std::string_view(reinterpret_cast<const char*>(msg + cursor + 1), label));
    if (name.size() > 1024) return false;
    cursor += 1 + label;
  }
}

}  // namespace

std::string escape_name(std::string_view label) {
  std::string out;
  out.reserve(label.size());
  for (char ch : label) {
    const auto c = static_cast<unsigned char>(ch);
    if (c >= 'A' && c <= 'Z') {
      out.push_back(static_cast<char>(c - 'A' + 'a'));
    } else if (c > 0x20 && c < 0x7f && c != '.' && c != '\\' && c != '"') {
      out.push_back(static_cast<char>(c));
    } else {
      char code[5];
      std::snprintf(code, sizeof(code), "\\%03u", c);
      out += code;
    }
  }
  return out;
}

bool parse_dns_wire(std::string_view message, DnsWireMessage& out) {
  out = DnsWireMessage{};
  const auto* msg = reinterpret_cast<const uint8_t*>(message.data());
  const size_t len = message.size();
  if (len < 12) return false;
  out.id = be16(msg);
  const uint16_t flags = be16(msg + 2);
  out.response = (flags & 0x8000) != 0;
  out.rcode = flags & 0x000f;
  const int qdcount = be16(msg + 4);
  const int ancount = be16(msg + 6);
  size_t pos = 12;
  for (int i = 0; i < qdcount; ++i) {
    std::string name;
    if (!read_name(msg, len, pos, name) || len - pos < 4) return i > 0;
    if (i == 0) {
      out.qname = name;
      out.qtype = be16(msg + pos);
    }
    pos += 4;
  }
  for (int i = 0; i < ancount; ++i) {
    std::string owner;
    if (!read_name(msg, len, pos, owner) || len - pos < 10) return true;
    const uint16_t type = be16(msg + pos);
    const uint32_t ttl = (static_cast<uint32_t>(be16(msg + pos + 4)) << 16) | be16(msg + pos + 6);
    const size_t rdlength = be16(msg + pos + 8);
    pos += 10;
    if (len - pos < rdlength) return true;
    DnsWireAnswer answer;
    answer.ttl = ttl;
    char text[INET6_ADDRSTRLEN] = {};
    if (type == 1 && rdlength == 4) {
      answer.type = "A";
      answer.value = inet_ntop(AF_INET, msg + pos, text, sizeof(text));
    } else if (type == 28 && rdlength == 16) {
      answer.type = "AAAA";
      answer.value = inet_ntop(AF_INET6, msg + pos, text, sizeof(text));
    } else if (type == 5) {
      size_t target = pos;
      answer.type = "CNAME";
      if (!read_name(msg, len, target, answer.value)) answer.value.clear();
    } else {
      answer.type = "TYPE" + std::to_string(type);
    }
    out.answers.push_back(std::move(answer));
    pos += rdlength;
  }
  out.complete = true;
  return true;
}

}  // namespace vantage::capture
