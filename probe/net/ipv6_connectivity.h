// Whether this host can measure a service over IPv6, decided without sending
// a packet. Many volunteers get AAAA answers from their resolver but have no
// IPv6 route (or only a link-local or unique-local address): connecting
// there fails with network_unreachable, which is no censorship, so the
// engine measures IPv6 addresses only when this says the host can reach
// them the way the apps would.
//
// How: a UDP socket connect() to the destination (port 443) makes the kernel
// choose the route and the source address, and sends nothing (UDP has no
// handshake); getsockname() then tells the source. Usable when the connect
// succeeds and the source is a global unicast address (2000::/3, outside the
// ranges that are never global: ip_address.h kNotGlobal, 2001:db8::/32).
// The source address is the volunteer's own: it is never returned or
// recorded, only judged.
#pragma once

#include <string>

namespace vantage::net {

// Why IPv6 is not usable ("" when it is).
inline constexpr const char* kIpv6NoRoute = "no_ipv6_route";            // connect(): no route
inline constexpr const char* kIpv6NoGlobalAddress = "no_global_ipv6_address";  // the source chosen is not global
inline constexpr const char* kIpv6Unsupported = "ipv6_unsupported";     // no AF_INET6 sockets at all

struct Ipv6Connectivity {
  bool usable = false;
  std::string reason;  // one of the above; "" when usable
};

// The decision for `destination` (an IPv6 literal). A destination that is
// not an IPv6 address is never usable (reason kIpv6NoRoute).
Ipv6Connectivity ipv6_connectivity(const std::string& destination);

// The decision from what the kernel said: `connect_errno` of the UDP
// connect (0: it succeeded; EAFNOSUPPORT: no IPv6 sockets) and, when it
// succeeded, the source address it chose. Pure: the unit tests' entry.
Ipv6Connectivity classify_ipv6_route(int connect_errno, const std::string& source);

// A global unicast IPv6 address: in 2000::/3 and not in a range that is
// never global (documentation 2001:db8::/32 included). IPv4 and IPv4-mapped
// addresses are not.
bool is_global_ipv6(const std::string& address);

}  // namespace vantage::net
