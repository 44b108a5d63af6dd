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
  auto r = whoami("GET", client_address("198.18.9.7", "", {}));
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.content_type, "application/json");
  EXPECT_EQ(json::parse(r.body), (json{{"ip", "198.18.9.7"}}));
  // A dual-stack listener reports IPv4 clients as ::ffff:a.b.c.d.
  EXPECT_EQ(client_address("::ffff:198.18.9.7", "", {}), "198.18.9.7");
  EXPECT_EQ(client_address("2001:DB8::0:1", "", {}), "2001:db8::1");
}

TEST(ClientAddress, XForwardedForOnlyFromTrustedProxies) {
  const std::vector<std::string> proxies = {"127.0.0.1", "10.0.0.2"};
  EXPECT_EQ(client_address("127.0.0.1", "10.9.9.9, 198.18.9.7", proxies), "198.18.9.7");  // the hop the proxy saw
  EXPECT_EQ(client_address("127.0.0.1", "10.9.9.9, 198.18.9.7", {}), "127.0.0.1");  // a client cannot claim an address
  EXPECT_EQ(client_address("198.18.1.1", "10.9.9.9", proxies), "198.18.1.1");  // nor an untrusted peer
  // A chain of trusted proxies: the first hop from the right that none of them added.
  EXPECT_EQ(client_address("127.0.0.1", "203.0.113.5, 198.18.9.7, 10.0.0.2", proxies), "198.18.9.7");
  EXPECT_EQ(client_address("::ffff:127.0.0.1", "198.18.9.7", proxies), "198.18.9.7");
  EXPECT_EQ(client_address("127.0.0.1", "10.0.0.2", proxies), "10.0.0.2");  // only proxies: the leftmost
  EXPECT_EQ(client_address("127.0.0.1", "not an address", proxies), "");
  EXPECT_EQ(client_address("127.0.0.1", std::string(100, '1'), proxies), "");
  auto bad = whoami("GET", "");
  EXPECT_EQ(bad.status, 502);
  EXPECT_NE(json::parse(bad.body)["error"].get<std::string>().find("X-Forwarded-For"), std::string::npos);
}

TEST(Whoami, OnlyGet) {
  auto r = whoami("POST", "198.18.9.7");
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
