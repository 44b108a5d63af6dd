// Specification of the packet, DNS and TLS decoders on packets built byte by
// byte: every link type, IPv4/IPv6 (with extension headers), TCP/UDP/ICMP,
// and every truncation of each packet.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "probe/capture/dns_message.h"
#include "probe/capture/packet_decoder.h"
#include "probe/capture/tests/packet_builder.h"
#include "probe/capture/tls_record.h"

namespace vantage::capture {
namespace {

namespace tb = testing;

const uint8_t* bytes(const std::string& s) { return reinterpret_cast<const uint8_t*>(s.data()); }

std::string sample_tcp() {
  return tb::ipv4("198.18.0.2", "198.18.1.10", 6, tb::tcp(40000, 443, 1000, 2000, 0x18, "hello", 1234), 57, 4242);
}

void expect_sample_tcp(const DecodedPacket& p) {
  ASSERT_TRUE(p.ok) << p.error;
  EXPECT_EQ(p.ip_version, 4);
  EXPECT_EQ(p.src.to_string(), "198.18.0.2");
  EXPECT_EQ(p.dst.to_string(), "198.18.1.10");
  EXPECT_EQ(p.ttl, 57);
  EXPECT_EQ(p.ip_id, 4242);
  EXPECT_TRUE(p.dont_fragment);
  EXPECT_EQ(p.protocol, ipproto::kTcp);
  ASSERT_TRUE(p.has_transport);
  EXPECT_EQ(p.src_port, 40000);
  EXPECT_EQ(p.dst_port, 443);
  EXPECT_EQ(p.seq, 1000u);
  EXPECT_EQ(p.ack, 2000u);
  EXPECT_EQ(p.tcp_flags, tcpflag::kPsh | tcpflag::kAck);
  EXPECT_EQ(p.window, 1234);
  EXPECT_EQ(p.payload, "hello");
  EXPECT_EQ(p.payload_length, 5u);
  EXPECT_FALSE(p.truncated);
}

TEST(PacketDecoder, EveryLinkType) {
  const auto ip = sample_tcp();
  expect_sample_tcp(decode_packet(link::kEthernet, bytes(tb::ethernet(ip)), tb::ethernet(ip).size()));
  expect_sample_tcp(decode_packet(link::kEthernet, bytes(tb::ethernet(ip, true)), tb::ethernet(ip, true).size()));
  expect_sample_tcp(decode_packet(link::kLinuxSll, bytes(tb::linux_sll(ip)), tb::linux_sll(ip).size()));
  expect_sample_tcp(decode_packet(link::kLinuxSll2, bytes(tb::linux_sll2(ip)), tb::linux_sll2(ip).size()));
  expect_sample_tcp(decode_packet(link::kNull, bytes(tb::bsd_null(ip)), tb::bsd_null(ip).size()));
  std::string loop = std::string("\0\0\0\x02", 4) + ip;  // network order
  expect_sample_tcp(decode_packet(link::kLoop, bytes(loop), loop.size()));
  for (int raw : {link::kRaw, link::kRawLinktype, link::kIpv4})
    expect_sample_tcp(decode_packet(raw, bytes(ip), ip.size()));
  EXPECT_FALSE(decode_packet(147, bytes(ip), ip.size()).ok);
  EXPECT_EQ(decode_packet(147, bytes(ip), ip.size()).error, "unsupported_link_type");
}

TEST(PacketDecoder, NonIpFramesAreNotDecoded) {
  std::string arp = std::string(12, '\x01') + "\x08\x06" + std::string(28, '\0');
  auto p = decode_packet(link::kEthernet, bytes(arp), arp.size());
  EXPECT_FALSE(p.ok);
  EXPECT_EQ(p.error, "not_ip");
}

TEST(PacketDecoder, Ipv6WithExtensionHeaders) {
  // hop-by-hop (8 bytes, next = destination options), destination options (8, next = TCP)
  std::string ext = std::string("\x3c\x00", 2) + std::string(6, '\x01') + std::string("\x06\x00", 2) +
                    std::string(6, '\x01');
  auto ip = tb::ipv6("2001:db8::2", "2001:db8::443", 6, tb::tcp(40000, 443, 7, 9, 0x02), 60, ext, 0);
  auto p = decode_packet(link::kIpv6, bytes(ip), ip.size());
  ASSERT_TRUE(p.ok) << p.error;
  EXPECT_EQ(p.ip_version, 6);
  EXPECT_EQ(p.src.to_string(), "2001:db8::2");
  EXPECT_EQ(p.ttl, 60);
  EXPECT_EQ(p.protocol, ipproto::kTcp);
  ASSERT_TRUE(p.has_transport);
  EXPECT_EQ(p.dst_port, 443);
  EXPECT_EQ(p.tcp_flags, tcpflag::kSyn);
  EXPECT_EQ(format_address(p.dst, p.dst_port), "[2001:db8::443]:443");
}

TEST(PacketDecoder, Ipv6LaterFragmentHasNoTransport) {
  std::string frag = std::string("\x11\x00\x00\x08", 4) + std::string(4, '\x00');  // offset 1, next UDP
  auto ip = tb::ipv6("2001:db8::2", "2001:db8::53", 17, std::string(16, 'x'), 64, frag, 44);
  auto p = decode_ip(bytes(ip), ip.size());
  ASSERT_TRUE(p.ok);
  EXPECT_TRUE(p.later_fragment);
  EXPECT_FALSE(p.has_transport);
}

TEST(PacketDecoder, Ipv4LaterFragmentHasNoTransport) {
  auto ip = tb::ipv4("198.18.0.2", "198.18.0.53", 17, tb::udp(5000, 53, "abcdefgh"));
  ip[6] = 0x00;
  ip[7] = 0x10;  // offset 16*8
  auto p = decode_ip(bytes(ip), ip.size());
  ASSERT_TRUE(p.ok);
  EXPECT_TRUE(p.later_fragment);
  EXPECT_FALSE(p.has_transport);
}

TEST(PacketDecoder, UdpCarriesDns) {
  auto ip = tb::ipv4("198.18.0.53", "198.18.0.2", 17, tb::udp(53, 5353, tb::dns_response(77, "Example.COM", {"198.18.5.5"})), 47);
  auto p = decode_ip(bytes(ip), ip.size());
  ASSERT_TRUE(p.ok && p.has_transport);
  EXPECT_EQ(p.src_port, 53);
  DnsWireMessage m;
  ASSERT_TRUE(parse_dns_wire(p.payload, m));
  EXPECT_TRUE(m.response);
  EXPECT_EQ(m.id, 77);
  EXPECT_EQ(m.qname, "example.com");
  ASSERT_EQ(m.answers.size(), 1u);
  EXPECT_EQ(m.answers[0].type, "A");
  EXPECT_EQ(m.answers[0].value, "198.18.5.5");
  EXPECT_EQ(m.answers[0].ttl, 300u);
  EXPECT_TRUE(m.complete);
}

TEST(PacketDecoder, IcmpUnreachableQuotesTheFlow) {
  auto original = tb::ipv4("198.18.0.2", "198.18.1.10", 6, tb::tcp(40000, 443, 1, 0, 0x02));
  auto ip = tb::ipv4("198.18.9.1", "198.18.0.2", 1, tb::icmp(3, 13, original.substr(0, 28)), 250);
  auto p = decode_ip(bytes(ip), ip.size());
  ASSERT_TRUE(p.ok && p.has_transport);
  EXPECT_EQ(p.icmp_type, 3);
  EXPECT_EQ(p.icmp_code, 13);
  ASSERT_TRUE(p.quoted.present);
  EXPECT_EQ(p.quoted.protocol, ipproto::kTcp);
  EXPECT_EQ(p.quoted.dst.to_string(), "198.18.1.10");
  EXPECT_EQ(p.quoted.src_port, 40000);
  EXPECT_EQ(p.quoted.dst_port, 443);
}

TEST(PacketDecoder, Icmpv6UnreachableQuotesTheFlow) {
  auto original = tb::ipv6("2001:db8::2", "2001:db8::443", 17, tb::udp(5000, 53, "q"));
  auto ip = tb::ipv6("2001:db8::1", "2001:db8::2", 58, tb::icmp(1, 1, original));
  auto p = decode_ip(bytes(ip), ip.size());
  ASSERT_TRUE(p.ok && p.has_transport);
  EXPECT_EQ(p.icmp_type, 1);
  EXPECT_EQ(p.icmp_code, 1);
  ASSERT_TRUE(p.quoted.present);
  EXPECT_EQ(p.quoted.protocol, ipproto::kUdp);
  EXPECT_EQ(p.quoted.dst.to_string(), "2001:db8::443");
  EXPECT_EQ(p.quoted.dst_port, 53);
}

TEST(PacketDecoder, SnaplenCutKeepsWireLength) {
  const std::string big(1400, 'z');
  auto ip = tb::ipv4("198.18.1.10", "198.18.0.2", 6, tb::tcp(443, 40000, 1, 1, 0x10, big));
  auto p = decode_ip(bytes(ip), 200);
  ASSERT_TRUE(p.ok);
  EXPECT_TRUE(p.truncated);
  EXPECT_EQ(p.payload.size(), 200u - 40u);
  EXPECT_EQ(p.payload_length, 1400u);
  EXPECT_EQ(p.ip_length, 1440u);
}

TEST(PacketDecoder, EveryTruncationIsSafe) {
  const std::vector<std::pair<int, std::string>> packets = {
      {link::kEthernet, tb::ethernet(sample_tcp())},
      {link::kLinuxSll2, tb::linux_sll2(tb::ipv6("2001:db8::2", "2001:db8::443", 6, tb::tcp(1, 2, 3, 4, 0x02, "x")))},
      {link::kLinuxSll, tb::linux_sll(tb::ipv4("198.18.9.1", "198.18.0.2", 1,
                                               tb::icmp(3, 3, tb::ipv4("198.18.0.2", "198.18.0.53", 17, tb::udp(5, 53, "abc")))))},
      {link::kNull, tb::bsd_null(tb::ipv4("198.18.0.53", "198.18.0.2", 17, tb::udp(53, 5, tb::dns_response(1, "a.b", {"1.2.3.4"}))))}};
  for (const auto& [link_type, full] : packets) {
    EXPECT_TRUE(decode_packet(link_type, bytes(full), full.size()).ok);
    for (size_t n = 0; n < full.size(); ++n) {
      std::string cut = full.substr(0, n);  // exact-size buffer: ASan catches overreads
      auto p = decode_packet(link_type, bytes(cut), cut.size());
      if (p.ok) { EXPECT_LE(p.payload.size(), n); }
    }
  }
  // Short IPv4: below 20 bytes there is no IP header.
  auto ip = sample_tcp();
  for (size_t n = 0; n < 20; ++n) EXPECT_FALSE(decode_ip(bytes(ip), n).ok) << n;
  for (size_t n = 20; n < 40; ++n) {
    auto p = decode_ip(bytes(ip), n);
    EXPECT_TRUE(p.ok);
    EXPECT_FALSE(p.has_transport) << n;
    EXPECT_EQ(p.error, "truncated_tcp_header");
  }
}

TEST(PacketDecoder, MalformedHeadersAreRejected) {
  auto ip = sample_tcp();
  auto bad_ihl = ip;
  bad_ihl[0] = 0x44;
  EXPECT_EQ(decode_ip(bytes(bad_ihl), bad_ihl.size()).error, "malformed_ip_header");
  auto bad_length = ip;
  bad_length[2] = 0;
  bad_length[3] = 10;
  EXPECT_EQ(decode_ip(bytes(bad_length), bad_length.size()).error, "malformed_ip_length");
  auto bad_offset = ip;
  bad_offset[20 + 12] = 0x20;  // data offset 2 words
  auto p = decode_ip(bytes(bad_offset), bad_offset.size());
  EXPECT_TRUE(p.ok);
  EXPECT_EQ(p.error, "malformed_tcp_header");
  auto huge_offset = ip;
  huge_offset[20 + 12] = static_cast<char>(0xf0);  // 60 bytes > what is there
  p = decode_ip(bytes(huge_offset), huge_offset.size());
  EXPECT_TRUE(p.ok);
  EXPECT_TRUE(p.payload.empty());
  EXPECT_EQ(decode_ip(bytes("\x70"), 1).error, "not_ip");
}

TEST(PacketDecoder, AddressesParseAndFormat) {
  IpAddress ip;
  uint16_t port = 0;
  ASSERT_TRUE(parse_address("198.18.0.53:53", ip, port));
  EXPECT_EQ(format_address(ip, port), "198.18.0.53:53");
  ASSERT_TRUE(parse_address("[::1]:8443", ip, port));
  EXPECT_EQ(format_address(ip, port), "[::1]:8443");
  ASSERT_TRUE(parse_address("2001:db8::1", ip, port, 53));
  EXPECT_EQ(port, 53);
  ASSERT_TRUE(parse_address("198.18.0.53", ip, port, 53));
  EXPECT_EQ(port, 53);
  EXPECT_FALSE(parse_address("198.18.0.53:99999", ip, port));
  EXPECT_FALSE(parse_address("example.com:443", ip, port));
  EXPECT_FALSE(parse_address("[::1", ip, port));
}

TEST(DnsWire, QueryAndTruncatedResponse) {
  DnsWireMessage m;
  ASSERT_TRUE(parse_dns_wire(tb::dns_query(9, "e1.WhatsApp.net", 28), m));
  EXPECT_FALSE(m.response);
  EXPECT_EQ(m.qname, "e1.whatsapp.net");
  EXPECT_EQ(m.qtype, 28);
  auto response = tb::dns_response(9, "e1.whatsapp.net", {"198.18.1.1", "198.18.1.2"});
  for (size_t n = 0; n < response.size(); ++n) {
    std::string cut = response.substr(0, n);
    const bool parsed = parse_dns_wire(cut, m);
    if (n < 12) { EXPECT_FALSE(parsed); }
    if (parsed) { EXPECT_FALSE(m.complete) << n; }
  }
  ASSERT_TRUE(parse_dns_wire(response, m));
  EXPECT_EQ(m.answers.size(), 2u);
}

TEST(DnsWire, CompressionLoopIsRejected) {
  std::string m = tb::dns_query(1, "a.b");
  m[5] = 1;  // qdcount 1
  // Replace the question name by a pointer to itself.
  std::string looped = m.substr(0, 12) + std::string("\xc0\x0c", 2) + std::string("\x00\x01\x00\x01", 4);
  DnsWireMessage out;
  EXPECT_FALSE(parse_dns_wire(looped, out));
}

TEST(DnsWire, NamesAreEscapedIntoPrintableText) {
  std::string q = tb::dns_query(1, "ab.c");
  q[13] = static_cast<char>(0xff);  // "a" → 0xff
  q[14] = '.';                      // "b" → a dot inside the label
  DnsWireMessage m;
  ASSERT_TRUE(parse_dns_wire(q, m));
  EXPECT_EQ(m.qname, "\\255\\046.c");
  EXPECT_NO_THROW(nlohmann::json(m.qname).dump());
}

TEST(TlsRecord, ClientHelloSni) {
  auto hello = tb::client_hello("chat.signal.org");
  auto info = parse_client_hello(hello);
  ASSERT_TRUE(info);
  EXPECT_EQ(info->sni, "chat.signal.org");
  EXPECT_FALSE(info->truncated);
  for (size_t n = 0; n < hello.size(); ++n) {
    std::string cut = hello.substr(0, n);
    auto partial = parse_client_hello(cut);
    if (n < 6) { EXPECT_FALSE(partial); }
    if (partial) {
      EXPECT_TRUE(partial->truncated) << n;
      EXPECT_TRUE(std::string("chat.signal.org").rfind(partial->sni, 0) == 0) << n;
    }
  }
  EXPECT_FALSE(parse_client_hello("GET / HTTP/1.1\r\n"));
}

TEST(TlsRecord, AlertsAndHttp) {
  auto alert = parse_tls_alert(tb::tls_alert(2, 40));
  ASSERT_TRUE(alert);
  EXPECT_EQ(alert->level, 2);
  EXPECT_EQ(alert->description, 40);
  EXPECT_FALSE(parse_tls_alert(tb::tls_alert(7, 40)));
  EXPECT_FALSE(parse_tls_alert(tb::tls_alert(2, 40).substr(0, 6)));
  EXPECT_TRUE(looks_like_http_request("GET / HTTP/1.1\r\nHost: x\r\n\r\n"));
  EXPECT_FALSE(looks_like_http_request("HTTP/1.1 200 OK"));
  EXPECT_EQ(http_response_status("HTTP/1.1 403 Forbidden\r\n"), 403);
  EXPECT_EQ(http_response_status("HTTP/1.1 4x3"), 0);
  EXPECT_EQ(http_response_status("HTTP/1."), 0);
}

}  // namespace
}  // namespace vantage::capture
