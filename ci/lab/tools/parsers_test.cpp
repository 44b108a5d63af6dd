// parsers_test.cpp — lab_nfq's packet, DNS, SNI and name-list parsers on
// valid input, on every truncation of it and on random corruption: a censor
// that misparses (or crashes on) a packet would fake or hide censorship.
#include <gtest/gtest.h>

#include <random>

#include "dns_wire.h"
#include "name_list.h"
#include "packet.h"
#include "sni.h"

namespace lab {
namespace {

void Put16(std::vector<uint8_t>& out, size_t v) { out.push_back(uint8_t(v >> 8)); out.push_back(uint8_t(v)); }
void Put24(std::vector<uint8_t>& out, size_t v) { out.push_back(uint8_t(v >> 16)); Put16(out, v & 0xffff); }

// A ClientHello record like a browser's: session id, a few suites, an
// extension before server_name and one after it.
std::vector<uint8_t> ClientHello(const std::string& sni) {
  std::vector<uint8_t> extensions;
  Put16(extensions, 0x000a); Put16(extensions, 4); Put16(extensions, 2); Put16(extensions, 0x001d);  // groups
  if (!sni.empty()) {
    Put16(extensions, 0x0000);
    Put16(extensions, sni.size() + 5);
    Put16(extensions, sni.size() + 3);
    extensions.push_back(0);
    Put16(extensions, sni.size());
    extensions.insert(extensions.end(), sni.begin(), sni.end());
  }
  Put16(extensions, 0x002b); Put16(extensions, 3); extensions.push_back(2); Put16(extensions, 0x0304);
  std::vector<uint8_t> body;
  Put16(body, 0x0303);
  body.insert(body.end(), 32, 0xab);  // random
  body.push_back(32);
  body.insert(body.end(), 32, 0xcd);  // session id
  Put16(body, 6); Put16(body, 0x1301); Put16(body, 0x1302); Put16(body, 0xc02f);
  body.push_back(1); body.push_back(0);  // compression: null
  Put16(body, extensions.size());
  body.insert(body.end(), extensions.begin(), extensions.end());
  std::vector<uint8_t> record = {22, 3, 1};
  Put16(record, body.size() + 4);
  record.push_back(1);
  Put24(record, body.size());
  record.insert(record.end(), body.begin(), body.end());
  return record;
}

TEST(Sni, FindsTheServerName) {
  const SniResult r = ParseClientHelloSni(ClientHello("blocked.example"));
  EXPECT_EQ(r.kind, SniResult::Kind::kFound);
  EXPECT_EQ(r.name, "blocked.example");
}

TEST(Sni, HelloWithoutServerName) {
  EXPECT_EQ(ParseClientHelloSni(ClientHello("")).kind, SniResult::Kind::kNoSni);
}

TEST(Sni, OtherTrafficIsNotAClientHello) {
  const std::vector<uint8_t> http = {'G', 'E', 'T', ' ', '/', ' ', 'H', 'T', 'T', 'P'};
  EXPECT_EQ(ParseClientHelloSni(http).kind, SniResult::Kind::kNotClientHello);
  EXPECT_EQ(ParseClientHelloSni({}).kind, SniResult::Kind::kNotClientHello);
  std::vector<uint8_t> server_hello = ClientHello("a.example");
  server_hello[5] = 2;
  EXPECT_EQ(ParseClientHelloSni(server_hello).kind, SniResult::Kind::kNotClientHello);
}

TEST(Sni, EveryTruncationIsTruncatedUnlessTheNameIsComplete) {
  const std::vector<uint8_t> hello = ClientHello("blocked.example");
  const std::string name = "blocked.example";
  const size_t name_end = std::search(hello.begin(), hello.end(), name.begin(), name.end()) - hello.begin() + name.size();
  for (size_t n = 1; n < hello.size(); ++n) {
    const SniResult r = ParseClientHelloSni(std::span(hello).first(n));
    if (n >= name_end) {
      EXPECT_EQ(r.kind, SniResult::Kind::kFound) << n;  // SNI in the first segment of a split hello
    } else {
      EXPECT_EQ(r.kind, SniResult::Kind::kTruncated) << n;
    }
  }
}

TEST(Sni, LengthsPastTheirContainerAreMalformed) {
  std::vector<uint8_t> hello = ClientHello("blocked.example");
  const size_t extensions_length_at = 5 + 4 + 2 + 32 + 1 + 32 + 2 + 6 + 2;
  hello[extensions_length_at] = 0x40;  // extensions longer than the hello
  EXPECT_EQ(ParseClientHelloSni(hello).kind, SniResult::Kind::kMalformed);
}

TEST(Sni, RandomCorruptionNeverReadsOutOfBounds) {
  // Run under ASan (VANTAGE_SANITIZE) this proves the bounds checks.
  std::mt19937 random(1);
  const std::vector<uint8_t> hello = ClientHello("blocked.example");
  for (int i = 0; i < 20000; ++i) {
    std::vector<uint8_t> copy(hello.begin(), hello.begin() + random() % (hello.size() + 1));
    for (int flips = 0; flips < 3 && !copy.empty(); ++flips) copy[random() % copy.size()] = uint8_t(random());
    const SniResult r = ParseClientHelloSni(copy);
    if (r.kind == SniResult::Kind::kFound) {
      EXPECT_LE(r.name.size(), copy.size());
    }
  }
}

std::vector<uint8_t> Query(const std::string& name, uint16_t id, uint16_t flags = 0x0100) {
  std::vector<uint8_t> q;
  Put16(q, id); Put16(q, flags); Put16(q, 1); Put16(q, 0); Put16(q, 0); Put16(q, 0);
  size_t start = 0;
  while (start < name.size()) {
    size_t dot = name.find('.', start);
    if (dot == std::string::npos) dot = name.size();
    q.push_back(uint8_t(dot - start));
    q.insert(q.end(), name.begin() + start, name.begin() + dot);
    start = dot + 1;
  }
  q.push_back(0);
  Put16(q, 28); Put16(q, 1);  // AAAA IN
  return q;
}

TEST(Dns, ParsesTheQuestion) {
  auto q = ParseDnsQuery(Query("WWW.Test.example", 0x1234));
  ASSERT_TRUE(q);
  EXPECT_EQ(q->id, 0x1234);
  EXPECT_EQ(q->qname, "WWW.Test.example");
  EXPECT_EQ(q->qtype, 28);
  EXPECT_EQ(q->question.size(), 18u + 4u);
}

TEST(Dns, RejectsResponsesPointersAndEveryTruncation) {
  EXPECT_FALSE(ParseDnsQuery(Query("a.example", 1, 0x8180)));
  std::vector<uint8_t> pointer = Query("a.example", 1);
  pointer[12] = 0xc0;
  EXPECT_FALSE(ParseDnsQuery(pointer));
  const std::vector<uint8_t> query = Query("a.example", 1);
  for (size_t n = 0; n < query.size(); ++n) EXPECT_FALSE(ParseDnsQuery(std::span(query).first(n))) << n;
}

TEST(Dns, ForgedResponseAnswersTheQuestionWithOneA) {
  const std::vector<uint8_t> wire = Query("test.example", 0xbeef);
  auto q = ParseDnsQuery(wire);
  ASSERT_TRUE(q);
  const std::vector<uint8_t> r = BuildForgedAResponse(*q, *ParseIpv4Address("198.18.201.99"), 60);
  ASSERT_EQ(r.size(), 12 + q->question.size() + 16);
  EXPECT_EQ(ReadU16(r, 0), 0xbeef);
  EXPECT_EQ(ReadU16(r, 2), 0x8180);  // response, RD, RA, NOERROR
  EXPECT_EQ(ReadU16(r, 4), 1);
  EXPECT_EQ(ReadU16(r, 6), 1);
  EXPECT_TRUE(std::equal(q->question.begin(), q->question.end(), r.begin() + 12));
  const size_t answer = 12 + q->question.size();
  EXPECT_EQ(ReadU16(r, answer), 0xc00c);
  EXPECT_EQ(ReadU16(r, answer + 2), 1);  // A
  EXPECT_EQ(ReadU16(r, answer + 8), 60);  // low half of the TTL
  EXPECT_EQ(std::vector<uint8_t>(r.end() - 4, r.end()), (std::vector<uint8_t>{198, 18, 201, 99}));
}

TEST(Packet, BuiltIpv4UdpParsesBackWithValidChecksums) {
  Ipv4UdpSpec spec;
  spec.src = *ParseIpv4Address("198.18.201.10");
  spec.dst = *ParseIpv4Address("198.18.200.2");
  spec.src_port = 53;
  spec.dst_port = 40000;
  spec.ttl = 50;
  spec.ip_id = 77;
  const std::vector<uint8_t> payload = {1, 2, 3, 4, 5};  // odd length exercises padding
  const std::vector<uint8_t> packet = BuildIpv4Udp(spec, payload);
  EXPECT_EQ(ChecksumFinish(ChecksumAdd(0, std::span(packet).first(20))), 0);
  uint32_t sum = ChecksumAdd(0, std::span(packet).subspan(12, 8)) + kProtoUdp + (packet.size() - 20);
  EXPECT_EQ(ChecksumFinish(ChecksumAdd(sum, std::span(packet).subspan(20))), 0);
  auto ip = ParseIp(packet);
  ASSERT_TRUE(ip);
  EXPECT_EQ(FormatAddress(ip->src), "198.18.201.10");
  EXPECT_EQ(ip->protocol, kProtoUdp);
  EXPECT_EQ(packet[8], 50);
  auto udp = ParseUdp(ip->transport);
  ASSERT_TRUE(udp);
  EXPECT_EQ(udp->dst_port, 40000);
  EXPECT_EQ(std::vector<uint8_t>(udp->payload.begin(), udp->payload.end()), payload);
  for (size_t n = 0; n < packet.size(); ++n) {
    auto cut = ParseIp(std::span(packet).first(n));
    EXPECT_FALSE(cut) << n;  // total length exceeds what we have
  }
}

TEST(Packet, TcpHeaderLengthIsBoundsChecked) {
  std::vector<uint8_t> tcp(20, 0);
  tcp[12] = 0xf0;  // 60-byte header in 20 bytes
  EXPECT_FALSE(ParseTcp(tcp));
  tcp[12] = 0x50;
  ASSERT_TRUE(ParseTcp(tcp));
  EXPECT_TRUE(ParseTcp(tcp)->payload.empty());
}

TEST(Packet, Ipv6ExtensionHeadersAreSkipped) {
  std::vector<uint8_t> packet(40, 0);
  packet[0] = 0x60;
  packet[6] = 0;  // hop-by-hop options first
  packet[8] = 0x20; packet[9] = 0x01; packet[10] = 0x00; packet[11] = 0x02;  // 2001:2::/48
  std::vector<uint8_t> hop_by_hop = {kProtoTcp, 0, 1, 4, 0, 0, 0, 0};
  std::vector<uint8_t> tcp(20, 0);
  tcp[1] = 99; tcp[3] = 0xbb; tcp[12] = 0x50;  // ports 99 -> 187
  tcp.push_back(22);
  packet.insert(packet.end(), hop_by_hop.begin(), hop_by_hop.end());
  packet.insert(packet.end(), tcp.begin(), tcp.end());
  packet[4] = 0; packet[5] = uint8_t(packet.size() - 40);
  auto ip = ParseIp(packet);
  ASSERT_TRUE(ip);
  EXPECT_EQ(ip->protocol, kProtoTcp);
  EXPECT_EQ(FormatAddress(ip->src), "2001:2::");
  auto segment = ParseTcp(ip->transport);
  ASSERT_TRUE(segment);
  EXPECT_EQ(segment->src_port, 99);
  EXPECT_EQ(segment->payload.size(), 1u);
  hop_by_hop[1] = 200;  // extension longer than the packet
  std::copy(hop_by_hop.begin(), hop_by_hop.end(), packet.begin() + 40);
  EXPECT_FALSE(ParseIp(packet));
}

TEST(NameList, MatchesNameAndSubdomainsCaseInsensitively) {
  std::string error;
  auto names = NameList::Parse("blocked.example,Other.Example.", &error);
  ASSERT_TRUE(names) << error;
  EXPECT_EQ(names->Match("blocked.example"), "blocked.example");
  EXPECT_EQ(names->Match("WWW.BLOCKED.EXAMPLE."), "blocked.example");
  EXPECT_EQ(names->Match("other.example"), "other.example");
  EXPECT_FALSE(names->Match("notblocked.example"));
  EXPECT_FALSE(names->Match("example"));
  EXPECT_FALSE(NameList::Parse("a.example,,b.example", &error));
  EXPECT_FALSE(NameList::Parse("", &error));
}

}  // namespace
}  // namespace lab
