// IP addresses and their classification. See ip_address.h.
#include "reports/format/ip_address.h"

#include <arpa/inet.h>

#include <cstring>

namespace vantage::ip {
namespace {

Address as_v4(const uint8_t* four) {
  Address a;
  a.family = 4;
  std::memcpy(a.bytes.data(), four, 4);
  return a;
}

bool starts_with(const std::array<uint8_t, 16>& bytes, const uint8_t (&prefix)[12]) {
  return std::memcmp(bytes.data(), prefix, 12) == 0;
}

struct Range {
  const char* cidr;
  unsigned uses;
};

constexpr unsigned kAll = kBogon | kLocal | kNonPublic | kNotGlobal;

// One table for every caller (see the header for what each use means).
constexpr Range kRanges[] = {
    {"0.0.0.0/8", kBogon | kNonPublic | kNotGlobal},
    {"10.0.0.0/8", kAll},
    {"100.64.0.0/10", kAll},
    {"127.0.0.0/8", kAll},
    {"169.254.0.0/16", kAll},
    {"172.16.0.0/12", kAll},
    {"192.0.0.0/24", kBogon | kNonPublic},
    {"192.0.2.0/24", kNonPublic},
    {"192.168.0.0/16", kAll},
    {"198.18.0.0/15", kNonPublic},
    {"198.51.100.0/24", kNonPublic},
    {"203.0.113.0/24", kNonPublic},
    {"224.0.0.0/4", kBogon | kNonPublic | kNotGlobal},
    {"240.0.0.0/4", kBogon | kNonPublic | kNotGlobal},
    {"::/120", kNotGlobal},
    {"::/127", kNonPublic},
    {"::/128", kBogon},
    {"::1/128", kBogon},
    {"64:ff9b::/96", kBogon},
    {"64:ff9b:1::/48", kNonPublic},
    {"100::/64", kNonPublic},
    {"2001::/23", kNonPublic},
    {"2001:db8::/32", kNonPublic},
    {"fc00::/7", kAll},
    {"fe80::/10", kAll},
    {"fec0::/10", kNonPublic},
    {"ff00::/8", kBogon | kNonPublic | kNotGlobal},
};

struct ParsedRange {
  Network network;
  unsigned uses;
};

const std::vector<ParsedRange>& ranges() {
  static const std::vector<ParsedRange> parsed = [] {
    std::vector<ParsedRange> list;
    for (const Range& r : kRanges) list.push_back({*parse_network(r.cidr, Spelling::literal), r.uses});
    return list;
  }();
  return parsed;
}

}  // namespace

std::optional<Address> parse_address(std::string_view text, Spelling spelling) {
  const std::string s(text);  // inet_pton wants a terminated string
  uint8_t buf[16]{};
  if (inet_pton(AF_INET, s.c_str(), buf) == 1) return as_v4(buf);
  if (inet_pton(AF_INET6, s.c_str(), buf) != 1) return std::nullopt;
  Address a;
  a.family = 6;
  std::memcpy(a.bytes.data(), buf, 16);
  static const uint8_t kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  static const uint8_t kTranslated[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0, 0};
  static const uint8_t kCompatible[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};
  static const uint8_t kNat64[12] = {0, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0};
  switch (spelling) {
    case Spelling::literal:
      return a;
    case Spelling::mapped_is_v4:
      return starts_with(a.bytes, kMapped) ? as_v4(buf + 12) : a;
    case Spelling::embedded_is_v4:
      if (starts_with(a.bytes, kMapped) || starts_with(a.bytes, kTranslated) ||
          starts_with(a.bytes, kCompatible) || starts_with(a.bytes, kNat64))
        return as_v4(buf + 12);
      if (buf[0] == 0x20 && buf[1] == 0x02) return as_v4(buf + 2);
      return a;
  }
  return a;
}

std::optional<Network> parse_network(std::string_view text, Spelling spelling, bool bare_address_ok) {
  const auto slash = text.find('/');
  if (slash == std::string_view::npos && !bare_address_ok) return std::nullopt;
  const auto base = parse_address(text.substr(0, slash), spelling);
  if (!base) return std::nullopt;
  const int max_length = base->family == 4 ? 32 : 128;
  Network network{*base, max_length};
  if (slash == std::string_view::npos) return network;
  // Digits only: "-1", "+24", " 24" and "24x" are no lengths.
  const std::string_view length = text.substr(slash + 1);
  if (length.empty() || length.size() > 3) return std::nullopt;
  int bits = 0;
  for (char c : length) {
    if (c < '0' || c > '9') return std::nullopt;
    bits = bits * 10 + (c - '0');
  }
  if (bits > max_length) return std::nullopt;
  network.prefix_length = bits;
  return network;
}

bool contains(const Network& network, const Address& address) {
  if (network.base.family != address.family || address.family == 0) return false;
  int bits = network.prefix_length;
  for (std::size_t i = 0; i < 16 && bits > 0; ++i, bits -= 8) {
    const uint8_t mask = bits >= 8 ? 0xff : static_cast<uint8_t>(0xff << (8 - bits));
    if ((network.base.bytes[i] & mask) != (address.bytes[i] & mask)) return false;
  }
  return true;
}

bool in_special_range(const Address& address, unsigned uses) {
  for (const ParsedRange& r : ranges())
    if ((r.uses & uses) != 0 && contains(r.network, address)) return true;
  return false;
}

bool is_bogon(std::string_view text) {
  const auto a = parse_address(text, Spelling::mapped_is_v4);
  return !a || in_special_range(*a, kBogon);
}

bool in_prefix(std::string_view text, std::string_view prefix) {
  const auto a = parse_address(text, Spelling::mapped_is_v4);
  const auto n = parse_network(prefix, Spelling::mapped_is_v4);
  return a && n && contains(*n, *a);
}

bool in_any_prefix(std::string_view text, const std::vector<std::string>& prefixes) {
  for (const auto& p : prefixes)
    if (in_prefix(text, p)) return true;
  return false;
}

std::string bracket_host(std::string_view host) {
  if (host.find(':') == std::string_view::npos || host.front() == '[') return std::string(host);
  return "[" + std::string(host) + "]";
}

std::string join_host_port(std::string_view host, int port) { return bracket_host(host) + ":" + std::to_string(port); }

std::optional<HostPort> split_host_port(std::string_view text) {
  HostPort out;
  std::string_view host = text;
  std::optional<std::string_view> port_text;
  if (!text.empty() && text.front() == '[') {
    const auto close = text.find(']');
    if (close == std::string_view::npos) return std::nullopt;
    host = text.substr(1, close - 1);
    out.bracketed = true;
    const auto rest = text.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':') return std::nullopt;
      port_text = rest.substr(1);
    }
  } else if (const auto colon = text.find(':');
             colon != std::string_view::npos && text.find(':', colon + 1) == std::string_view::npos) {
    host = text.substr(0, colon);
    port_text = text.substr(colon + 1);
  }
  out.host = std::string(host);
  if (!port_text) return out;
  if (port_text->empty() || port_text->size() > 5) return std::nullopt;
  int port = 0;
  for (char c : *port_text) {
    if (c < '0' || c > '9') return std::nullopt;
    port = port * 10 + (c - '0');
  }
  if (port > 65535) return std::nullopt;
  out.port = port;
  return out;
}

}  // namespace vantage::ip
