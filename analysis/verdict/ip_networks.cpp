// IP classification. See ip_networks.h.
#include "analysis/verdict/ip_networks.h"

#include <arpa/inet.h>

#include <array>
#include <cstdint>
#include <cstring>

namespace vantage::analysis {
namespace {

// An address as 16 bytes (IPv4 mapped to ::ffff:a.b.c.d) plus its family.
struct Address {
  std::array<uint8_t, 16> bytes{};
  bool v4 = false;
};

bool parse(const std::string& s, Address& out) {
  in_addr a4{};
  if (inet_pton(AF_INET, s.c_str(), &a4) == 1) {
    out.v4 = true;
    out.bytes.fill(0);
    out.bytes[10] = out.bytes[11] = 0xff;
    std::memcpy(out.bytes.data() + 12, &a4, 4);
    return true;
  }
  in6_addr a6{};
  if (inet_pton(AF_INET6, s.c_str(), &a6) == 1) {
    std::memcpy(out.bytes.data(), &a6, 16);
    static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    out.v4 = std::memcmp(out.bytes.data(), mapped, 12) == 0;
    return true;
  }
  return false;
}

bool prefix_match(const Address& a, const Address& net, int bits) {
  for (int i = 0; i < 16 && bits > 0; ++i, bits -= 8) {
    uint8_t mask = bits >= 8 ? 0xff : uint8_t(0xff << (8 - bits));
    if ((a.bytes[i] & mask) != (net.bytes[i] & mask)) return false;
  }
  return true;
}

bool match_cidr(const Address& a, const std::string& cidr) {
  auto slash = cidr.find('/');
  if (slash == std::string::npos) return false;
  Address net;
  if (!parse(cidr.substr(0, slash), net) || net.v4 != a.v4) return false;
  // Digits only: std::stoi accepted "-1", "+24", " 24" and "24x", and a
  // negative length passed the range check once 96 was added for IPv4.
  const std::string length = cidr.substr(slash + 1);
  if (length.empty() || length.size() > 3) return false;
  int bits = 0;
  for (char c : length) {
    if (c < '0' || c > '9') return false;
    bits = bits * 10 + (c - '0');
  }
  if (bits > (net.v4 ? 32 : 128)) return false;
  if (net.v4) bits += 96;
  return prefix_match(a, net, bits);
}

}  // namespace

bool is_bogon(const std::string& ip) {
  static const char* v4[] = {"0.0.0.0/8",      "10.0.0.0/8",     "100.64.0.0/10", "127.0.0.0/8",
                             "169.254.0.0/16", "172.16.0.0/12",  "192.0.0.0/24",  "192.168.0.0/16",
                             "224.0.0.0/4",    "240.0.0.0/4"};
  static const char* v6[] = {"::/128", "::1/128", "fc00::/7", "fe80::/10", "ff00::/8", "64:ff9b::/96"};
  Address a;
  if (!parse(ip, a)) return true;
  if (a.v4) {
    for (const char* c : v4)
      if (match_cidr(a, c)) return true;
    return false;
  }
  for (const char* c : v6)
    if (match_cidr(a, c)) return true;
  return false;
}

bool in_prefix(const std::string& ip, const std::string& prefix) {
  Address a;
  return parse(ip, a) && match_cidr(a, prefix);
}

bool in_any_prefix(const std::string& ip, const std::vector<std::string>& prefixes) {
  for (const auto& p : prefixes)
    if (in_prefix(ip, p)) return true;
  return false;
}

}  // namespace vantage::analysis
