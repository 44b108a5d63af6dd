// Tests for the collector's view of its client: whoami, trusted proxies,
// and refusing a measurement that carries the submitting client's address.
#include <gtest/gtest.h>

#include "reports/collector/client_address.h"
#include "reports/collector/collector.h"
#include "reports/format/observations_json.h"

namespace vantage::collector {
namespace {

using nlohmann::json;

TEST(Whoami, AnswersThePeer) {
  auto r = whoami({"GET", "198.18.9.7", ""}, false);
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.content_type, "application/json");
  EXPECT_EQ(json::parse(r.body), (json{{"ip", "198.18.9.7"}}));
  // A dual-stack listener reports IPv4 clients as ::ffff:a.b.c.d.
  EXPECT_EQ(json::parse(whoami({"GET", "::ffff:198.18.9.7", ""}, false).body)["ip"], "198.18.9.7");
  EXPECT_EQ(json::parse(whoami({"GET", "2001:DB8::0:1", ""}, false).body)["ip"], "2001:db8::1");
}

TEST(Whoami, TrustedProxyOnlyWhenTold) {
  ClientRequest r{"GET", "127.0.0.1", "10.9.9.9, 198.18.9.7"};
  EXPECT_EQ(json::parse(whoami(r, true).body)["ip"], "198.18.9.7");    // the hop the proxy saw
  EXPECT_EQ(json::parse(whoami(r, false).body)["ip"], "127.0.0.1");    // a client cannot claim an address
  r.x_forwarded_for = "not an address";
  auto bad = whoami(r, true);
  EXPECT_EQ(bad.status, 502);
  EXPECT_NE(json::parse(bad.body)["error"].get<std::string>().find("X-Forwarded-For"), std::string::npos);
}

TEST(Whoami, OnlyGet) {
  auto r = whoami({"POST", "198.18.9.7", ""}, false);
  EXPECT_EQ(r.status, 405);
  EXPECT_EQ(r.body.find("198.18.9.7"), std::string::npos);
}

TEST(OwnAddress, RefusedInEverySpellingWithoutEchoingIt) {
  for (std::string leak : {"198.18.9.7", "7.9.18.198.in-addr.arpa", "host-198-18-9-7.isp", "::ffff:c612:907"}) {
    json m{{"test_keys", {{"note", "seen " + leak}}}};
    std::string why = own_address_refusal(m, "198.18.9.7");
    EXPECT_FALSE(why.empty()) << leak;
    EXPECT_EQ(why.find("198"), std::string::npos);
  }
  std::string body = std::string("\x00\x01", 2) + "X-Real-IP: 198.18.9.7";
  json b{{"body", {{"format", "base64"}, {"data", format::base64_encode(body)}}}};
  EXPECT_FALSE(own_address_refusal(b, "198.18.9.7").empty());
  EXPECT_FALSE(own_address_refusal(json{{"a", "2001:db8:1:2::99"}}, "2001:db8:1:2::5").empty());  // the /64
  EXPECT_EQ(own_address_refusal(json{{"a", "198.18.9.70"}}, "198.18.9.7"), "");
  EXPECT_EQ(own_address_refusal(json{{"probe_ip", "127.0.0.1"}}, "127.0.0.1"), "");  // loopback: not checked
  EXPECT_EQ(own_address_refusal(json{{"a", "198.18.9.7"}}, ""), "");
}

}  // namespace
}  // namespace vantage::collector
