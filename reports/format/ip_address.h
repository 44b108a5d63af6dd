// IP addresses and what they are: parsing literals and CIDR networks, prefix
// membership, and the one table of special-purpose ranges (RFC 6890 and
// friends) that every caller classifies against. Pure functions over bytes
// and strings; never touches the network.
//
// The callers ask different questions of the same table, so each range says
// which questions it answers yes to:
//   kBogon      a public name must never resolve here (the verdict's and the
//               engine's DNS check). The benchmarking and documentation
//               ranges are NOT bogons: the lab's services live in
//               198.18.0.0/15 and its tests in the documentation ranges.
//   kLocal      a private/site-local source: a router on the path that
//               reports from here names the volunteer's network, so the
//               capture writes "[private]" instead (RFC 1918, loopback,
//               link-local, CGN, ULA).
//   kNonPublic  not on the public Internet: a public test helper never
//               connects here on a client's behalf (everything special,
//               benchmarking and documentation included).
//   kNotGlobal  no address the Internet sees a volunteer by: the location
//               step ignores a "public address" in these (unspecified,
//               loopback, RFC 1918, CGN, link-local, multicast, reserved,
//               ULA); documentation and benchmarking addresses pass, so the
//               lab's NAT address is one.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace vantage::ip {

// family 4 (bytes[0..3] hold the address, the rest is zero) or 6.
struct Address {
  int family = 0;
  std::array<uint8_t, 16> bytes{};
};

// How IPv6 spellings of an IPv4 address are read.
enum class Spelling {
  literal,       // as inet_pton says: ::ffff:10.0.0.1 is IPv6
  mapped_is_v4,  // ::ffff:0:0/96 is the IPv4 address it carries
  // Every IPv6 form that carries an IPv4 address becomes that address, so a
  // policy cannot be bypassed by spelling 127.0.0.1 differently: mapped
  // ::ffff:0:0/96, translated (SIIT) ::ffff:0:0:0/96, compatible ::/96 (so
  // ::1 is 0.0.0.1), NAT64 64:ff9b::/96 and 6to4 2002::/16 (bytes 2-5).
  embedded_is_v4,
};

// Parses a dotted quad or IPv6 text (no brackets, no zone, no spaces).
std::optional<Address> parse_address(std::string_view text, Spelling spelling = Spelling::mapped_is_v4);

struct Network {
  Address base;
  int prefix_length = 0;  // 0..32 for family 4, 0..128 for family 6
};

// Parses "ADDR/LEN" (LEN: 1-3 digits, at most 32 or 128 for the family the
// address reads as); with `bare_address_ok`, "ADDR" alone is a /32 or /128.
std::optional<Network> parse_network(std::string_view text, Spelling spelling = Spelling::mapped_is_v4,
                                     bool bare_address_ok = false);

// Same family and the first prefix_length bits equal.
bool contains(const Network& network, const Address& address);

enum RangeUse : unsigned { kBogon = 1u, kLocal = 2u, kNonPublic = 4u, kNotGlobal = 8u };

// True when `address` lies in a special-purpose range marked with any of `uses`.
bool in_special_range(const Address& address, unsigned uses);

// The DNS check: true for a bogon, and for text that is no address at all
// (IPv4-mapped spellings count as the IPv4 address).
bool is_bogon(std::string_view text);

// True when `prefix` ("198.18.2.0/24", "2a03:2880::/32"; host bits may be
// set) parses and holds `text`. IPv4-mapped addresses match IPv4 prefixes.
bool in_prefix(std::string_view text, std::string_view prefix);
bool in_any_prefix(std::string_view text, const std::vector<std::string>& prefixes);

// The host as a URL or "host:port" spells it: an IPv6 literal (any host
// holding a ':') in brackets, unless it already is; others as they are.
std::string bracket_host(std::string_view host);

// "host:port" with bracket_host(): "198.18.2.7:443", "[2001:db8::1]:443".
std::string join_host_port(std::string_view host, int port);

struct HostPort {
  std::string host;         // without brackets
  std::optional<int> port;  // 0..65535; none when the text names none
  bool bracketed = false;   // the host was in brackets
};

// The other way: "host", "host:port", "[host]" and "[host]:port"; a host with
// two or more ':' and no brackets is a bare IPv6 literal without a port.
// nullopt when the shape is wrong (an unclosed '[', junk after ']', a port
// that is empty, not 1-5 digits, or above 65535). Callers add their own
// rules (a port required, >= 1, the host a literal).
std::optional<HostPort> split_host_port(std::string_view text);

}  // namespace vantage::ip
