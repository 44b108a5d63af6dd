// ipv6_connectivity: the decision table (pure) and the real check against
// loopback, the one destination whose answer does not depend on the host.
#include "probe/net/ipv6_connectivity.h"

#include <gtest/gtest.h>

#include <cerrno>

namespace vantage::net {
namespace {

TEST(Ipv6Connectivity, GlobalUnicastOnly) {
  EXPECT_TRUE(is_global_ipv6("2a00:1450:4001:82b::200e"));
  EXPECT_TRUE(is_global_ipv6("2001:2:0:1::2"));  // the lab's benchmarking range is routed like a global one
  EXPECT_TRUE(is_global_ipv6("2001:4860:4860::8888"));
  EXPECT_FALSE(is_global_ipv6("::1"));
  EXPECT_FALSE(is_global_ipv6("::"));
  EXPECT_FALSE(is_global_ipv6("fe80::1"));
  EXPECT_FALSE(is_global_ipv6("fd12:3456::1"));     // unique local
  EXPECT_FALSE(is_global_ipv6("ff02::1"));          // multicast
  EXPECT_FALSE(is_global_ipv6("2001:db8::1"));      // documentation
  EXPECT_FALSE(is_global_ipv6("::ffff:192.0.2.1"));  // IPv4-mapped
  EXPECT_FALSE(is_global_ipv6("192.0.2.1"));
  EXPECT_FALSE(is_global_ipv6(""));
  EXPECT_FALSE(is_global_ipv6("not an address"));
}

TEST(Ipv6Connectivity, ClassifiesWhatTheKernelSaid) {
  auto usable = classify_ipv6_route(0, "2001:2:0:1::2");
  EXPECT_TRUE(usable.usable);
  EXPECT_EQ(usable.reason, "");
  EXPECT_EQ(classify_ipv6_route(ENETUNREACH, "").reason, kIpv6NoRoute);
  EXPECT_EQ(classify_ipv6_route(EHOSTUNREACH, "").reason, kIpv6NoRoute);
  EXPECT_EQ(classify_ipv6_route(EADDRNOTAVAIL, "").reason, kIpv6NoRoute);
  EXPECT_EQ(classify_ipv6_route(EAFNOSUPPORT, "").reason, kIpv6Unsupported);
  // A route through a link with only link-local or unique-local addresses:
  // the apps could not reach the Internet over it.
  auto link_local = classify_ipv6_route(0, "fe80::1");
  EXPECT_FALSE(link_local.usable);
  EXPECT_EQ(link_local.reason, kIpv6NoGlobalAddress);
  EXPECT_EQ(classify_ipv6_route(0, "fd00::5").reason, kIpv6NoGlobalAddress);
  EXPECT_EQ(classify_ipv6_route(0, "").reason, kIpv6NoGlobalAddress);
}

TEST(Ipv6Connectivity, LoopbackHasARouteButNoGlobalSource) {
  // The kernel routes ::1 and picks ::1 as the source (when the host has
  // IPv6 at all): a route, but no global address.
  auto c = ipv6_connectivity("::1");
  EXPECT_FALSE(c.usable);
  EXPECT_TRUE(c.reason == kIpv6NoGlobalAddress || c.reason == kIpv6Unsupported) << c.reason;
}

TEST(Ipv6Connectivity, NotAnIpv6DestinationIsNeverUsable) {
  EXPECT_FALSE(ipv6_connectivity("192.0.2.1").usable);
  EXPECT_FALSE(ipv6_connectivity("").usable);
  EXPECT_EQ(ipv6_connectivity("chat.signal.org").reason, kIpv6NoRoute);
}

}  // namespace
}  // namespace vantage::net
