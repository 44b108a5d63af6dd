// Tests for IP classification: bogon ranges (IPv4, IPv6, IPv4-mapped),
// prefix membership edge cases, and the capture's and the test helper's
// views of the same range table.
#include "reports/format/ip_address.h"

#include <gtest/gtest.h>

namespace vantage::ip {
namespace {

TEST(Bogon, Ipv4Ranges) {
  for (const char* ip : {"0.0.0.0", "0.255.255.255", "10.0.0.1", "10.255.255.255", "100.64.0.1", "100.127.255.255",
                         "127.0.0.1", "127.255.255.254", "169.254.1.1", "172.16.0.1", "172.31.255.255",
                         "192.0.0.8", "192.168.1.1", "224.0.0.1", "239.255.255.255", "240.0.0.1",
                         "255.255.255.255"})
    EXPECT_TRUE(is_bogon(ip)) << ip;
}

TEST(Bogon, Ipv4PublicAndBoundaries) {
  for (const char* ip : {"1.1.1.1", "9.255.255.255", "11.0.0.0", "100.63.255.255", "100.128.0.0", "126.255.255.255",
                         "128.0.0.0", "169.253.255.255", "169.255.0.0", "172.15.255.255", "172.32.0.0",
                         "192.167.255.255", "192.169.0.0", "223.255.255.255", "31.13.86.51",
                         // The lab's benchmark range is not a bogon: the lab's
                         // services live there.
                         "198.18.0.1", "198.19.255.254"})
    EXPECT_FALSE(is_bogon(ip)) << ip;
}

TEST(Bogon, Ipv6) {
  for (const char* ip : {"::", "::1", "fc00::1", "fd12:3456::1", "fe80::1", "febf::1", "ff02::1", "64:ff9b::a00:1",
                         "::ffff:10.0.0.1", "::ffff:127.0.0.1", "::ffff:192.168.0.1"})
    EXPECT_TRUE(is_bogon(ip)) << ip;
  for (const char* ip : {"2a03:2880:f12f:83:face:b00c:0:25de", "2001:4860:4860::8888", "fec0::1", "fbff::1",
                         "::2", "::ffff:31.13.86.51", "2001::1"})
    EXPECT_FALSE(is_bogon(ip)) << ip;
}

TEST(Bogon, UnparseableIsBogon) {
  for (const char* ip : {"", "localhost", "1.2.3", "1.2.3.4.5", "256.1.1.1", "1.2.3.4 ", " 1.2.3.4", "01.2.3.4x",
                         "fe80::1%eth0", "::g", "1.2.3.4/32"})
    EXPECT_TRUE(is_bogon(ip)) << "'" << ip << "'";
}

TEST(Prefix, Ipv4) {
  EXPECT_TRUE(in_prefix("198.18.2.7", "198.18.2.0/24"));
  EXPECT_TRUE(in_prefix("198.18.2.255", "198.18.2.0/24"));
  EXPECT_FALSE(in_prefix("198.18.3.0", "198.18.2.0/24"));
  EXPECT_TRUE(in_prefix("198.19.0.1", "198.18.0.0/15"));
  EXPECT_FALSE(in_prefix("198.20.0.1", "198.18.0.0/15"));
  // Host bits set in the prefix are ignored.
  EXPECT_TRUE(in_prefix("198.18.2.7", "198.18.2.99/24"));
  // Odd lengths.
  EXPECT_TRUE(in_prefix("157.240.0.1", "157.240.0.0/17"));
  EXPECT_FALSE(in_prefix("157.240.128.1", "157.240.0.0/17"));
}

TEST(Prefix, ZeroAndFullLength) {
  EXPECT_TRUE(in_prefix("1.2.3.4", "0.0.0.0/0"));
  EXPECT_TRUE(in_prefix("255.255.255.255", "0.0.0.0/0"));
  EXPECT_TRUE(in_prefix("1.2.3.4", "1.2.3.4/32"));
  EXPECT_FALSE(in_prefix("1.2.3.5", "1.2.3.4/32"));
  EXPECT_FALSE(in_prefix("1.2.3.4", "1.2.3.4/33"));
  EXPECT_TRUE(in_prefix("2001:db8::1", "::/0"));
  EXPECT_TRUE(in_prefix("2001:db8::1", "2001:db8::1/128"));
  EXPECT_FALSE(in_prefix("2001:db8::2", "2001:db8::1/128"));
  EXPECT_FALSE(in_prefix("2001:db8::1", "2001:db8::1/129"));
}

TEST(Prefix, Ipv6) {
  EXPECT_TRUE(in_prefix("2a03:2880:f12f::1", "2a03:2880::/32"));
  EXPECT_FALSE(in_prefix("2a03:2881::1", "2a03:2880::/32"));
  EXPECT_TRUE(in_prefix("2A03:2880::1", "2a03:2880::/32"));  // case-insensitive
  EXPECT_TRUE(in_prefix("fe80::1", "fe80::/10"));
  EXPECT_TRUE(in_prefix("febf::1", "fe80::/10"));
  EXPECT_FALSE(in_prefix("fec0::1", "fe80::/10"));
}

TEST(Prefix, FamilyMismatch) {
  // An IPv4 address is not inside an IPv6 prefix, not even ::/0, and vice versa.
  EXPECT_FALSE(in_prefix("1.2.3.4", "::/0"));
  EXPECT_FALSE(in_prefix("2001:db8::1", "0.0.0.0/0"));
  // IPv4-mapped IPv6 addresses count as IPv4.
  EXPECT_TRUE(in_prefix("::ffff:198.18.2.7", "198.18.2.0/24"));
}

TEST(Prefix, Garbage) {
  EXPECT_FALSE(in_prefix("198.18.2.7", "198.18.2.0"));      // no length
  EXPECT_FALSE(in_prefix("198.18.2.7", "198.18.2.0/"));     // empty length
  EXPECT_FALSE(in_prefix("198.18.2.7", "198.18.2.0/x"));
  EXPECT_FALSE(in_prefix("198.18.2.7", "198.18.2.0/24x"));  // trailing junk
  EXPECT_FALSE(in_prefix("198.18.2.7", "198.18.2.0/ 24"));
  EXPECT_FALSE(in_prefix("198.18.2.7", "198.18.2.0/+24"));
  EXPECT_FALSE(in_prefix("198.18.2.7", "198.18.2.0/-1"));   // negative length
  EXPECT_FALSE(in_prefix("1.2.3.4", "0.0.0.0/-8"));
  EXPECT_FALSE(in_prefix("198.18.2.7", "198.18.2.0/99999999999999999999"));
  EXPECT_FALSE(in_prefix("198.18.2.7", "/24"));
  EXPECT_FALSE(in_prefix("198.18.2.7", ""));
  EXPECT_FALSE(in_prefix("", "0.0.0.0/0"));
  EXPECT_FALSE(in_prefix("not an ip", "0.0.0.0/0"));
  EXPECT_FALSE(in_prefix("198.18.2.7", "198.18.2/24"));
}

TEST(Prefix, AnyPrefix) {
  std::vector<std::string> prefixes{"31.13.24.0/21", "garbage", "2a03:2880::/32"};
  EXPECT_TRUE(in_any_prefix("31.13.31.1", prefixes));
  EXPECT_TRUE(in_any_prefix("2a03:2880::5", prefixes));
  EXPECT_FALSE(in_any_prefix("31.13.32.1", prefixes));
  EXPECT_FALSE(in_any_prefix("31.13.31.1", {}));
}

bool special(const char* text, unsigned uses, Spelling spelling = Spelling::literal) {
  const auto a = parse_address(text, spelling);
  EXPECT_TRUE(a.has_value()) << text;
  return a && in_special_range(*a, uses);
}

// The capture's "[private]" ICMP senders: RFC 1918, loopback, link-local, CGN
// and ULA only; the lab's benchmark range and the bogon-only ranges are kept.
TEST(Local, CaptureRanges) {
  for (const char* ip : {"10.1.2.3", "127.0.0.1", "172.16.0.1", "172.31.255.255", "192.168.0.1", "169.254.9.9",
                         "100.64.0.1", "100.127.255.255", "fc00::1", "fdff::1", "fe80::1", "febf::1"})
    EXPECT_TRUE(special(ip, kLocal)) << ip;
  for (const char* ip : {"198.18.0.1", "0.0.0.1", "192.0.0.8", "224.0.0.1", "8.8.8.8", "100.128.0.0", "::1", "ff02::1",
                         "fec0::1", "2001:db8::1",
                         // read literally (a packet's IPv6 source): not the IPv4 address it carries
                         "::ffff:10.0.0.1"})
    EXPECT_FALSE(special(ip, kLocal)) << ip;
}

// The test helper's policy: everything special is refused, whatever the
// IPv6 spelling of an IPv4 address.
TEST(NonPublic, HelperRangesAndSpellings) {
  for (const char* ip : {"198.18.0.1", "198.19.255.255", "192.0.2.1", "198.51.100.1", "203.0.113.1", "0.1.2.3",
                         "10.0.0.1", "224.0.0.1", "255.255.255.255", "2001:db8::1", "fec0::1", "ff02::1", "100::1",
                         "2001:1::1", "64:ff9b:1::1"})
    EXPECT_TRUE(special(ip, kNonPublic, Spelling::embedded_is_v4)) << ip;
  for (const char* ip : {"::1", "::", "::ffff:127.0.0.1", "::ffff:0:7f00:1", "::7f00:1", "64:ff9b::7f00:1",
                         "2002:7f00:1::1", "2002:a00:1::"}) {
    const auto a = parse_address(ip, Spelling::embedded_is_v4);
    ASSERT_TRUE(a.has_value()) << ip;
    EXPECT_EQ(a->family, 4) << ip;
    EXPECT_TRUE(in_special_range(*a, kNonPublic)) << ip;
  }
  for (const char* ip : {"8.8.8.8", "31.13.86.51", "2a03:2880::1", "64:ff9b::808:808", "2002:808:808::1"})
    EXPECT_FALSE(special(ip, kNonPublic, Spelling::embedded_is_v4)) << ip;
}

// The location step's "is this a public address": documentation and the
// lab's benchmark range pass, everything local or reserved does not.
TEST(NotGlobal, LocationRanges) {
  for (const char* ip : {"0.0.0.0", "10.0.0.1", "127.0.0.1", "169.254.0.1", "172.16.0.1", "192.168.1.1", "100.64.0.1",
                         "224.0.0.1", "255.255.255.255", "::", "::1", "::2", "::ff", "ff02::1", "fc00::1", "fe80::1"})
    EXPECT_TRUE(special(ip, kNotGlobal, Spelling::mapped_is_v4)) << ip;
  for (const char* ip : {"198.18.9.7", "192.0.2.1", "192.0.0.8", "8.8.8.8", "2001:db8::1", "::100", "64:ff9b::a00:1",
                         "fec0::1"})
    EXPECT_FALSE(special(ip, kNotGlobal, Spelling::mapped_is_v4)) << ip;
}

TEST(HostPort, Ipv6InBrackets) {
  EXPECT_EQ(join_host_port("198.18.2.7", 443), "198.18.2.7:443");
  EXPECT_EQ(join_host_port("2001:db8::1", 443), "[2001:db8::1]:443");
  EXPECT_EQ(join_host_port("[2001:db8::1]", 53), "[2001:db8::1]:53");
  EXPECT_EQ(join_host_port("collector.example", 8080), "collector.example:8080");
  EXPECT_EQ(bracket_host("::1"), "[::1]");
  EXPECT_EQ(bracket_host("127.0.0.1"), "127.0.0.1");
  EXPECT_EQ(bracket_host(""), "");
}

TEST(HostPort, SplitsEveryShape) {
  auto hp = split_host_port("198.18.2.7:443");
  ASSERT_TRUE(hp.has_value());
  EXPECT_EQ(hp->host, "198.18.2.7");
  EXPECT_EQ(hp->port, 443);
  EXPECT_FALSE(hp->bracketed);
  hp = split_host_port("[2001:db8::1]:53");
  ASSERT_TRUE(hp.has_value());
  EXPECT_EQ(hp->host, "2001:db8::1");
  EXPECT_EQ(hp->port, 53);
  EXPECT_TRUE(hp->bracketed);
  hp = split_host_port("2001:db8::1");  // bare IPv6: no port
  ASSERT_TRUE(hp.has_value());
  EXPECT_EQ(hp->host, "2001:db8::1");
  EXPECT_FALSE(hp->port.has_value());
  hp = split_host_port("[::1]");
  ASSERT_TRUE(hp.has_value());
  EXPECT_EQ(hp->host, "::1");
  EXPECT_FALSE(hp->port.has_value());
  hp = split_host_port("resolver");
  ASSERT_TRUE(hp.has_value());
  EXPECT_FALSE(hp->port.has_value());
  EXPECT_EQ(split_host_port("h:0")->port, 0);
  EXPECT_EQ(split_host_port("h:65535")->port, 65535);
  for (const char* bad : {"h:", "h:65536", "h:123456", "h:8x", "h:-1", "[::1", "[::1]x", "[::1]:", "[::1]:+1"})
    EXPECT_FALSE(split_host_port(bad).has_value()) << bad;
}

TEST(Network, BareAddressAndLengths) {
  auto n = parse_network("10.1.2.3", Spelling::literal, /*bare_address_ok=*/true);
  ASSERT_TRUE(n.has_value());
  EXPECT_EQ(n->prefix_length, 32);
  EXPECT_FALSE(parse_network("10.1.2.3", Spelling::literal).has_value());
  n = parse_network("::ffff:10.0.0.0/104", Spelling::literal);
  ASSERT_TRUE(n.has_value());
  EXPECT_EQ(n->base.family, 6);  // read as written
  EXPECT_FALSE(parse_network("::ffff:10.0.0.0/104", Spelling::mapped_is_v4).has_value());  // an IPv4 /104
  EXPECT_FALSE(parse_network("::/129", Spelling::literal).has_value());
  EXPECT_FALSE(parse_network("lab/15", Spelling::literal, true).has_value());
}

}  // namespace
}  // namespace vantage::ip
