// Tests for the plan and evidence types (plan.h) and the control protocol's
// messages (control_protocol.h): the exact JSON each writes (the stored
// format: a renamed or retyped field fails here), parse(write(x)) == x, and
// malformed input read without throwing.
#include "reports/format/plan.h"

#include <gtest/gtest.h>

namespace vantage::format {
namespace {

using nlohmann::json;

PlannedEndpoint measured() {
  PlannedEndpoint e;
  e.endpoint = "chat.example:443";
  e.host = "chat.example";
  e.chain = "https";
  e.feature = "chat";
  e.dns_transaction_id = 1;
  e.dns_udp_transaction_id = 2;
  e.confirmed = "2026-01-01";
  e.url = "https://chat.example/";
  e.method = "GET";
  e.port = 443;
  e.ip = "198.18.1.2";
  e.family = "ipv4";
  e.transaction_id = 7;
  e.attempts = 2;
  return e;
}

TEST(Plan, MeasuredEndpointJson) {
  EXPECT_EQ(to_json(measured()), json::parse(R"({"endpoint":"chat.example:443","host":"chat.example","chain":"https",
      "feature":"chat","judged":true,"throughput":false,"dns_transaction_id":1,"dns_udp_transaction_id":2,
      "confirmed":"2026-01-01","url":"https://chat.example/","method":"GET","port":443,"ip":"198.18.1.2",
      "family":"ipv4","transaction_id":7,"attempts":2})"));
}

TEST(Plan, FamilyIsReadOrInferredFromTheAddress) {
  // Written by the probe; a measurement from before the key gets it from
  // its address; without an address there is none.
  json j = to_json(measured());
  j["ip"] = "2001:2:0:2::40";
  j["family"] = "ipv6";
  EXPECT_EQ(planned_endpoint_from_json(j).family, "ipv6");
  j.erase("family");
  EXPECT_EQ(planned_endpoint_from_json(j).family, "ipv6");
  j["ip"] = "198.18.2.40";
  EXPECT_EQ(planned_endpoint_from_json(j).family, "ipv4");
  j["ip"] = nullptr;
  EXPECT_EQ(planned_endpoint_from_json(j).family, "");
}

TEST(Plan, EndpointWithoutAddressOrPortJson) {
  // A name that gave no address: ip and transaction_id null, no attempts.
  PlannedEndpoint none;
  none.endpoint = "chat.example:5222";
  none.host = "chat.example";
  none.chain = "tcp";
  none.feature = "chat";
  none.port = 5222;
  none.failure = "interrupted";
  EXPECT_EQ(to_json(none), json::parse(R"({"endpoint":"chat.example:5222","host":"chat.example","chain":"tcp",
      "feature":"chat","judged":true,"throughput":false,"dns_transaction_id":-1,"dns_udp_transaction_id":-1,
      "confirmed":null,"port":5222,"ip":null,"family":null,"transaction_id":null,"failure":"interrupted"})"));
  // A DNS-only endpoint has no port, no address and no chain transaction.
  PlannedEndpoint dns;
  dns.endpoint = dns.host = "short.example";
  dns.chain = "dns";
  dns.feature = "links";
  dns.judged = false;
  EXPECT_EQ(to_json(dns), json::parse(R"({"endpoint":"short.example","host":"short.example","chain":"dns",
      "feature":"links","judged":false,"throughput":false,"dns_transaction_id":-1,"dns_udp_transaction_id":-1,
      "confirmed":null,"port":null,"ip":null,"family":null})"));
}

TEST(Plan, EndpointRoundTrip) {
  const json once = to_json(measured());
  EXPECT_EQ(to_json(planned_endpoint_from_json(json::parse(once.dump()))), once);
  const auto list = planned_endpoints_from_json(to_json(std::vector<PlannedEndpoint>{measured(), measured()}));
  ASSERT_EQ(list.size(), 2u);
  EXPECT_EQ(list[1].transaction_id, 7);
  EXPECT_EQ(list[1].ip, "198.18.1.2");
}

TEST(Plan, MalformedEndpointsReadAsDefaults) {
  const json bad{{"endpoint", 5}, {"judged", "yes"}, {"transaction_id", 1e300}, {"port", "x"}, {"ip", 7},
                 {"attempts", 1.5}, {"dns_transaction_id", nullptr}, {"confirmed", 3}};
  PlannedEndpoint e;
  ASSERT_NO_THROW(e = planned_endpoint_from_json(bad));
  EXPECT_EQ(e.endpoint, "");
  EXPECT_TRUE(e.judged);
  EXPECT_FALSE(e.transaction_id);  // a float is never converted
  EXPECT_FALSE(e.port);
  EXPECT_FALSE(e.ip);
  EXPECT_FALSE(e.attempts);
  EXPECT_EQ(e.dns_transaction_id, -1);
  EXPECT_FALSE(e.confirmed);
  for (const json& j : {json(nullptr), json(42), json("x"), json::object()}) {
    EXPECT_NO_THROW(planned_endpoint_from_json(j));
    EXPECT_TRUE(planned_endpoints_from_json(j).empty());
  }
  EXPECT_EQ(planned_endpoints_from_json(json::array({nullptr, 1, bad})).size(), 1u);  // only the object
}

TEST(Plan, FeaturesNetworksCanaryJson) {
  const std::vector<Feature> features{{"calls", "all", "voice", false}, {"chat", "any", "messages", true}};
  const json f = to_json(features);
  EXPECT_EQ(f, json::parse(R"({"calls":{"rule":"all","description":"voice","judged":false},
      "chat":{"rule":"any","description":"messages","judged":true}})"));
  const auto back = features_from_json(f);
  ASSERT_EQ(back.size(), 2u);
  EXPECT_EQ(back[0].name, "calls");
  EXPECT_FALSE(back[0].judged);
  EXPECT_EQ(back[1].rule, "any");
  EXPECT_EQ(features_from_json(json::parse(R"({"a":"any","b":{"rule":1}})")).size(), 1u);  // "a" is no feature
  EXPECT_TRUE(features_from_json(json::parse(R"({"b":{}})"))[0].judged);                 // judged by default

  const Networks n{{"AS1"}, {"198.18.1.0/24"}};
  EXPECT_EQ(to_json(n), json::parse(R"({"asns":["AS1"],"prefixes":["198.18.1.0/24"]})"));
  EXPECT_EQ(networks_from_json(json::parse(R"({"prefixes":"198.18.0.0/15","asns":[1,"AS2"]})")).asns,
            std::vector<std::string>{"AS2"});
  EXPECT_TRUE(networks_from_json(json::parse(R"({"prefixes":"198.18.0.0/15"})")).prefixes.empty());

  Canary c{"ok", 1234.5, {{"w.example:443", "ok", std::nullopt}, {"s.example:443", "failed", "connection_reset"}}};
  const json cj = to_json(c);
  EXPECT_EQ(cj, json::parse(R"({"status":"ok","throughput_kbps":1234.5,"endpoints":[
      {"endpoint":"w.example:443","status":"ok","failure":null},
      {"endpoint":"s.example:443","status":"failed","failure":"connection_reset"}]})"));
  EXPECT_EQ(to_json(*canary_from_json(cj)), cj);
  EXPECT_FALSE(canary_from_json(json::array()));
  const auto odd = canary_from_json(json::parse(R"({"status":5,"throughput_kbps":"fast"})"));
  ASSERT_TRUE(odd);
  EXPECT_EQ(odd->status, "");
  EXPECT_FALSE(odd->throughput_kbps);
}

// The helper's answer, as vantage-testhelper writes it.
const char* kAnswer = R"({"dns":{"failure":null,"addrs":["198.18.1.2"]},
    "tcp_connect":{"198.18.1.2:443":{"status":true,"failure":null}},
    "tls_handshake":{"198.18.1.2:443":{"server_name":"chat.example","status":false,"failure":"connection_reset"}},
    "http_request":{"status_code":-1,"body_length":-1,"title":"","headers":{},"failure":"connection_reset"},
    "x_chain":"https","ip_info":{}})";

TEST(ControlProtocol, ResponseRoundTripIsExact) {
  const json answer = json::parse(kAnswer);
  const ControlResponse r = control_response_from_json(answer);
  EXPECT_TRUE(r.answered());
  ASSERT_TRUE(r.tls_handshake);
  EXPECT_EQ(r.tls_handshake->at("198.18.1.2:443").failure, "connection_reset");
  EXPECT_EQ(to_json(r), answer);
  // A question that got no answer keeps its failure and the control's error.
  const json failed{{"failure", "http_unexpected_status_code"}, {"error", "bad"}};
  EXPECT_FALSE(control_response_from_json(failed).answered());
  EXPECT_EQ(to_json(control_response_from_json(failed)), failed);
}

TEST(ControlProtocol, MalformedResponsesNeverThrow) {
  for (const json& j : {json(nullptr), json(1), json::array(),
                        json::parse(R"({"dns":"x","tcp_connect":{"7:1":"x"},"http_request":1,"failure":null})")}) {
    ControlResponse r;
    ASSERT_NO_THROW(r = control_response_from_json(j)) << j.dump();
  }
  EXPECT_FALSE(control_response_from_json(json::array()).answered());  // not an object: no evidence
  const auto odd = control_response_from_json(json::parse(R"({"tcp_connect":{"7:1":"x"},"failure":null})"));
  EXPECT_TRUE(odd.answered());  // a null failure is no failure
  ASSERT_TRUE(odd.tcp_connect);
  EXPECT_FALSE(odd.tcp_connect->at("7:1").status);
}

TEST(ControlProtocol, RecordJson) {
  ControlRecord c;
  c.url = "http://198.18.2.2/";
  c.answers["chat.example:443"] = control_response_from_json(json::parse(kAnswer));
  const json j = to_json(c);
  EXPECT_EQ(j["url"], "http://198.18.2.2/");
  EXPECT_TRUE(j["unreachable"].is_null());
  EXPECT_EQ(j["answers"]["chat.example:443"], json::parse(kAnswer));
  EXPECT_EQ(to_json(*control_record_from_json(j)), j);
  c.unreachable = "generic_timeout_error";
  EXPECT_EQ(to_json(c)["unreachable"], "generic_timeout_error");
  EXPECT_FALSE(control_record_from_json(nullptr));  // x_control null: no control used
}

TEST(ControlProtocol, RequestJsonAndParse) {
  ControlRequest r;
  r.http_request = "https://a.example/x";
  r.http_request_headers = {{"Accept", {"*/*"}}};
  r.tcp_connect = {"192.0.2.1:443"};
  r.http_method = "POST";
  r.http_body = std::string(16, '\0');
  r.chain = "https";
  const json j = to_json(r);
  EXPECT_EQ(j["x_chain"], "https");
  EXPECT_EQ(j["x_http_body"].get<std::string>().size(), 16u);
  ControlRequest back;
  ASSERT_EQ(parse_control_request(json::parse(j.dump()), back), "");
  EXPECT_EQ(to_json(back), j);
  // Optional extensions absent: not written.
  ControlRequest plain;
  plain.http_request = "http://a.example/";
  EXPECT_EQ(to_json(plain), json::parse(R"({"http_request":"http://a.example/","http_request_headers":{},"tcp_connect":[]})"));
}

TEST(ControlProtocol, RequestShapeErrorsNameTheKey) {
  const std::vector<std::pair<json, std::string>> bad = {
      {json::array(), "not a JSON object"},
      {json{{"tcp_connect", json::array()}}, "\"http_request\""},
      {json{{"http_request", 1}}, "\"http_request\""},
      {json{{"http_request", "u"}, {"http_request_headers", "x"}}, "\"http_request_headers\""},
      {json{{"http_request", "u"}, {"http_request_headers", {{"A", {1}}}}}, "[\"A\"]"},
      {json{{"http_request", "u"}, {"http_request_headers", {{"A", 1}}}}, "[\"A\"]"},
      {json{{"http_request", "u"}, {"x_http_method", 1}}, "\"x_http_method\""},
      {json{{"http_request", "u"}, {"x_http_body", 1}}, "\"x_http_body\""},
      {json{{"http_request", "u"}, {"x_chain", 3}}, "\"x_chain\""},
      {json{{"http_request", "u"}, {"tcp_connect", "a:1"}}, "\"tcp_connect\""},
      {json{{"http_request", "u"}, {"tcp_connect", {"a:1", 2}}}, "\"tcp_connect\"[1]"},
  };
  for (const auto& [request, mentioning] : bad) {
    ControlRequest out;
    const std::string error = parse_control_request(request, out);
    EXPECT_NE(error.find(mentioning), std::string::npos) << request.dump() << " -> " << error;
  }
  ControlRequest out;
  EXPECT_EQ(parse_control_request(json{{"http_request", "u"}, {"http_request_headers", nullptr}, {"x_chain", nullptr}}, out), "");
  EXPECT_EQ(parse_control_request(json{{"http_request", "u"}, {"http_request_headers", {{"A", "b"}}}}, out), "");
  EXPECT_EQ(out.http_request_headers["A"], std::vector<std::string>{"b"});
}

}  // namespace
}  // namespace vantage::format
