// Tests for AddressScrubber: one per spelling an address can take in a
// measurement, the /64 rule, base64 bodies and DNS raw_response bytes.
#include <gtest/gtest.h>

#include "reports/format/address_scrub.h"
#include "reports/format/observations_json.h"

namespace vantage::format {
namespace {

using nlohmann::json;

std::string scrubbed(const std::vector<std::string>& secrets, std::string text) {
  AddressScrubber(secrets).scrub_text(text);
  return text;
}

TEST(AddressScrub, Ipv4TextSpellings) {
  const std::vector<std::string> me{"192.0.2.1"};
  EXPECT_EQ(scrubbed(me, "from 192.0.2.1:443"), "from [scrubbed]:443");
  EXPECT_EQ(scrubbed(me, "padded 192.000.002.001"), "padded [scrubbed]");
  EXPECT_EQ(scrubbed(me, "PTR 1.2.0.192.in-addr.arpa."), "PTR [scrubbed].");
  EXPECT_EQ(scrubbed(me, "PTR 1.2.0.192.IN-ADDR.ARPA"), "PTR [scrubbed]");
  EXPECT_EQ(scrubbed(me, "host 192-0-2-1.dsl.example.net"), "host [scrubbed].dsl.example.net");
  EXPECT_EQ(scrubbed(me, "host ip-192-0-2-1"), "host ip-[scrubbed]");
  EXPECT_EQ(scrubbed(me, "mapped ::ffff:192.0.2.1"), "mapped [scrubbed]");
  EXPECT_EQ(scrubbed(me, "mapped ::FFFF:C000:201 hex"), "mapped [scrubbed] hex");
  EXPECT_EQ(scrubbed(me, "nat64 64:ff9b::c000:201"), "nat64 [scrubbed]");
  EXPECT_EQ(scrubbed(me, "6to4 2002:c000:201::1"), "6to4 [scrubbed]");
  EXPECT_EQ(scrubbed(me, "[::ffff:192.0.2.1]:80"), "[[scrubbed]]:80");
}

TEST(AddressScrub, Ipv4LongerTokensAreNotTheAddress) {
  const std::vector<std::string> me{"192.0.2.1"};
  for (std::string s : {"192.0.2.10", "1192.0.2.1", "10.192.0.2.1", "192.0.2.1.5", "192-0-2-10", "2.1.0.192.in-addr.arpa",
                        "11.2.0.192.in-addr.arpa", "::ffff:192.0.2.2", "192.0.2"})
    EXPECT_EQ(scrubbed(me, s), s) << s;
}

TEST(AddressScrub, Ipv6TextSpellingsAndTheSlash64) {
  const std::vector<std::string> me{"2001:db8:1:2::5"};
  EXPECT_EQ(scrubbed(me, "a 2001:db8:1:2::5 b"), "a [scrubbed] b");
  EXPECT_EQ(scrubbed(me, "2001:0DB8:0001:0002:0000:0000:0000:0005"), "[scrubbed]");
  EXPECT_EQ(scrubbed(me, "2001:db8:1:2:0:0:0:5"), "[scrubbed]");
  EXPECT_EQ(scrubbed(me, "[2001:db8:1:2::5]:443"), "[[scrubbed]]:443");
  EXPECT_EQ(scrubbed(me, "host:2001:db8:1:2::5"), "host:[scrubbed]");
  // The /64: the same link with another interface id, or the prefix itself.
  EXPECT_EQ(scrubbed(me, "tmp 2001:db8:1:2:a1b2:c3d4:e5f6:789"), "tmp [scrubbed]");
  EXPECT_EQ(scrubbed(me, "net 2001:db8:1:2::/64"), "net [scrubbed]/64");
  EXPECT_EQ(scrubbed(me, "other 2001:db8:1:3::5"), "other 2001:db8:1:3::5");
  EXPECT_EQ(scrubbed(me, "12001:db8:1:2::5"), "12001:db8:1:2::5");
  // Reverse DNS, the full name and the /64's zone, any case.
  EXPECT_EQ(scrubbed(me, "5.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.2.0.0.0.1.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa"), "[scrubbed]");
  EXPECT_EQ(scrubbed(me, "F.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.2.0.0.0.1.0.0.0.8.B.D.0.1.0.0.2.IP6.ARPA"), "[scrubbed]");
  EXPECT_EQ(scrubbed(me, "zone 2.0.0.0.1.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa"), "zone [scrubbed]");
  EXPECT_EQ(scrubbed(me, "3.0.0.0.1.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa"), "3.0.0.0.1.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa");
  EXPECT_EQ(scrubbed(me, "2001-db8-1-2--5.ipv6-literal.net"), "[scrubbed].ipv6-literal.net");
}

TEST(AddressScrub, Ipv4MappedSecretIsTheIpv4Address) {
  // A dual-stack socket reports ::ffff:192.0.2.1: every spelling of 192.0.2.1 goes.
  EXPECT_EQ(scrubbed({"::ffff:192.0.2.1"}, "saw 192.0.2.1 and 1.2.0.192.in-addr.arpa"), "saw [scrubbed] and [scrubbed]");
}

TEST(AddressScrub, Base64BodyTextAndBinary) {
  AddressScrubber s({"192.0.2.1", "2001:db8:1:2::5"});
  std::string body = std::string("\xff\xfe your address is 192.0.2.1 / ") + std::string("\xc0\x00\x02\x01", 4) + " end";
  json m{{"requests", json::array({{{"response", {{"body", {{"format", "base64"}, {"data", base64_encode(body)}}}}}}})}};
  EXPECT_EQ(s.scrub_json(m), 2u);
  std::string back;
  ASSERT_TRUE(base64_decode(m["requests"][0]["response"]["body"]["data"], back));
  EXPECT_EQ(back.find("192.0.2.1"), std::string::npos);
  EXPECT_EQ(back.find(std::string("\xc0\x00\x02\x01", 4)), std::string::npos);
  EXPECT_NE(back.find("[scrubbed]"), std::string::npos);
}

// A DNS answer (header, question, one A record) carrying the address.
std::string dns_a_answer(const std::string& qname_wire, const std::string& rdata, std::uint16_t type) {
  std::string m("\x12\x34\x81\x80\x00\x01\x00\x01\x00\x00\x00\x00", 12);
  m += qname_wire + std::string("\x00", 1) + static_cast<char>(type >> 8) + static_cast<char>(type & 0xff) +
       std::string("\x00\x01", 2);
  m += std::string("\xc0\x0c", 2) + static_cast<char>(type >> 8) + static_cast<char>(type & 0xff) +
       std::string("\x00\x01\x00\x00\x00\x3c", 6) + static_cast<char>(rdata.size() >> 8) +
       static_cast<char>(rdata.size() & 0xff) + rdata;
  return m;
}

TEST(AddressScrub, RawResponseIsDecodedAndKeepsItsLength) {
  AddressScrubber s({"192.0.2.1", "2001:db8:1:2::5"});
  // whoami.example A -> 192.0.2.1
  std::string a = dns_a_answer(std::string("\x06whoami\x07" "example", 15), std::string("\xc0\x00\x02\x01", 4), 1);
  // 1.2.0.192.in-addr.arpa PTR -> x.example
  std::string ptr = dns_a_answer(std::string("\x01" "1\x01" "2\x01" "0\x03" "192\x07in-addr\x04" "arpa", 23),
                                 std::string("\x01x\x07" "example\x00", 11), 12);
  // AAAA with an address of the /64.
  std::string aaaa = dns_a_answer(std::string("\x01x", 2),
                                  std::string("\x20\x01\x0d\xb8\x00\x01\x00\x02\xaa\xbb\xcc\xdd\x00\x00\x00\x09", 16), 28);
  // TXT "192.0.2.1" (a resolver-echo answer).
  std::string txt = dns_a_answer(std::string("\x01t", 2), std::string("\x09" "192.0.2.1", 10), 16);
  json m{{"queries", json::array()}};
  for (const auto& msg : {a, ptr, aaaa, txt}) m["queries"].push_back({{"raw_response", base64_encode(msg)}});
  EXPECT_EQ(s.scrub_json(m), 4u);
  const std::vector<std::string> originals{a, ptr, aaaa, txt};
  for (std::size_t i = 0; i < 4; ++i) {
    std::string back;
    ASSERT_TRUE(base64_decode(m["queries"][i]["raw_response"], back));
    EXPECT_EQ(back.size(), originals[i].size()) << i;
    EXPECT_NE(back, originals[i]) << i;
    EXPECT_EQ(back.find(std::string("\xc0\x00\x02\x01", 4)), std::string::npos);
    EXPECT_EQ(back.find("192"), std::string::npos) << i;
    EXPECT_EQ(back.find(std::string("\x20\x01\x0d\xb8\x00\x01\x00\x02", 8)), std::string::npos);
  }
  // The PTR question keeps its label lengths (the message still parses).
  std::string back;
  ASSERT_TRUE(base64_decode(m["queries"][1]["raw_response"], back));
  EXPECT_EQ(back.substr(12, 23), std::string("\x01x\x01x\x01x\x03xxx\x07xxxxxxx\x04xxxx", 23));
}

TEST(AddressScrub, FoundInAndLiterals) {
  AddressScrubber s({"192.0.2.1", "not-an-ip.example"});
  EXPECT_TRUE(s.found_in(json{{"a", {{"b", "x 1.2.0.192.in-addr.arpa"}}}}));
  EXPECT_TRUE(s.found_in(json{{"host", "not-an-ip.example"}}));
  EXPECT_FALSE(s.found_in(json{{"a", "192.0.2.11 and 127.0.0.1"}}));
  EXPECT_TRUE(AddressScrubber({}).empty());
  EXPECT_FALSE(AddressScrubber({}).found_in(json{{"a", "192.0.2.1"}}));
}

}  // namespace
}  // namespace vantage::format
