// Specification of the control handler (test_helper.h), run against real
// loopback targets. Names other than IP literals are only resolved when the
// program runs in its own network namespace (isolated_network.h).
#include "reports/control/test_helper.h"

#include <gtest/gtest.h>

#include <chrono>
#include <string>

#include "probe/net/tests/test_pki.h"
#include "reports/control/tests/isolated_network.h"
#include "reports/control/tests/loopback_targets.h"

namespace vantage::control {
namespace {

using json = nlohmann::json;
using testing::ClosedPort;
using testing::ListeningPort;
using testing::loopback;
using testing::loopback_only;
using testing::TargetServer;

void expect_error(const json& request, const std::string& mentioning) {
  const json answer = handle_control_request(request, loopback_only());
  ASSERT_TRUE(answer.contains("error")) << request.dump() << " → " << answer.dump();
  EXPECT_NE(answer["error"].get<std::string>().find(mentioning), std::string::npos)
      << answer["error"].get<std::string>();
  const auto reply = handle_control_body(request.dump(), loopback_only());
  EXPECT_EQ(reply.http_status, 400);
  EXPECT_TRUE(reply.body.contains("error"));
}

// -------------------------------------------------------------- validation

TEST(ControlValidation, RejectsWrongShapes) {
  expect_error(json::array(), "not a JSON object");
  expect_error(json{{"tcp_connect", json::array()}}, "http_request");
  expect_error(json{{"http_request", 42}}, "http_request");
  expect_error(json{{"http_request", "ftp://127.0.0.1/"}}, "scheme");
  expect_error(json{{"http_request", "127.0.0.1/page"}}, "scheme");
  expect_error(json{{"http_request", "http://user:pw@127.0.0.1/"}}, "user info");
  expect_error(json{{"http_request", "http:///path"}}, "host");
  expect_error(json{{"http_request", "http://127.0.0.1:99999/"}}, "port");
  expect_error(json{{"http_request", "http://127.0.0.1/a b"}}, "spaces");
  expect_error(json{{"http_request", "http://[::1/"}}, "IPv6");
  expect_error(json{{"http_request", "http://127.0.0.1/"}, {"tcp_connect", "127.0.0.1:80"}}, "tcp_connect");
  expect_error(json{{"http_request", "http://127.0.0.1/"}, {"tcp_connect", {80}}}, "tcp_connect");
  expect_error(json{{"http_request", "http://127.0.0.1/"}, {"http_request_headers", "x"}},
               "http_request_headers");
  expect_error(json{{"http_request", "http://127.0.0.1/"}, {"http_request_headers", {{"A", {1}}}}},
               "http_request_headers");
  expect_error(json{{"http_request", "http://127.0.0.1/"}, {"x_http_method", "DELETE"}}, "x_http_method");
  expect_error(json{{"http_request", "http://127.0.0.1/"}, {"x_http_body", "a=1"}}, "x_http_body");
  expect_error(json{{"http_request", "http://127.0.0.1/"}, {"x_http_method", "POST"}, {"x_http_body", 1}},
               "x_http_body");
}

TEST(ControlValidation, RejectsEndpointsThatAreNotIpPortLiterals) {
  for (const char* bad : {"example.com:443", "127.0.0.1", "127.0.0.1:", "127.0.0.1:0", "127.0.0.1:65536",
                          "127.0.0.1:80x", "::1:443", "[::1]", "[127.0.0.1]:443", "[::1]443", "1.2.3:443",
                          ":443", "127.0.0.1:-1", ""}) {
    expect_error(json{{"http_request", "http://127.0.0.1/"}, {"tcp_connect", {bad}}}, "ip:port");
  }
}

TEST(ControlValidation, RefusesClientChosenTrust) {
  expect_error(json{{"http_request", "https://127.0.0.1/"}, {"x_tls_trust_ca_file", "/etc/shadow"}},
               "x_tls_trust_ca_file");
}

TEST(ControlValidation, AcceptsAtMost64Endpoints) {
  ClosedPort closed;
  json endpoints = json::array();
  for (int i = 0; i < 64; ++i) endpoints.push_back("127.0.0." + std::to_string(i + 1) + ":" + std::to_string(closed.port()));
  ClosedPort target;
  const json ok = handle_control_request(
      {{"http_request", "http://" + loopback(target.port()) + "/"}, {"tcp_connect", endpoints}}, loopback_only());
  ASSERT_FALSE(ok.contains("error")) << ok.dump();
  EXPECT_EQ(ok["tcp_connect"].size(), 64u);

  endpoints.push_back("127.0.1.1:" + std::to_string(closed.port()));
  expect_error({{"http_request", "http://127.0.0.1/"}, {"tcp_connect", endpoints}}, "at most 64");
}

TEST(ControlValidation, MalformedJsonBodyIs400) {
  for (const std::string& body : {std::string("{"), std::string("not json"), std::string(""),
                                 std::string("\xff\xfe"), std::string(100000, '[')}) {
    const auto reply = handle_control_body(body, loopback_only());
    EXPECT_EQ(reply.http_status, 400) << body.substr(0, 20);
    ASSERT_TRUE(reply.body.contains("error"));
  }
}

// ------------------------------------------------------------------ policy

TEST(ControlPolicy, ParsesNetworks) {
  IpNetwork network;
  EXPECT_TRUE(parse_ip_network("198.18.0.0/15", network));
  EXPECT_EQ(network.network.prefix_length, 15);
  EXPECT_TRUE(parse_ip_network("fd00::/8", network));
  EXPECT_TRUE(parse_ip_network("10.1.2.3", network));
  EXPECT_EQ(network.network.prefix_length, 32);
  EXPECT_FALSE(parse_ip_network("198.18.0.0/33", network));
  EXPECT_FALSE(parse_ip_network("198.18.0.0/", network));
  EXPECT_FALSE(parse_ip_network("lab/15", network));
  EXPECT_FALSE(parse_ip_network("::/129", network));
}

TEST(ControlPolicy, DefaultRefusesNonPublicAddresses) {
  const ControlOptions defaults;
  for (const char* ip : {"127.0.0.1", "127.8.9.10", "::1", "169.254.169.254", "fe80::1", "10.0.0.1",
                         "172.16.0.1", "192.168.1.1", "100.64.0.1", "0.0.0.0", "::", "224.0.0.1",
                         "255.255.255.255", "198.18.0.1", "fd00::1", "::ffff:127.0.0.1",
                         "::ffff:169.254.169.254", "not-an-ip"}) {
    EXPECT_FALSE(address_allowed(ip, defaults)) << ip;
  }
  // Public addresses are only checked here, never contacted.
  EXPECT_TRUE(address_allowed("157.240.1.1", defaults));
  EXPECT_TRUE(address_allowed("2a03:2880::1", defaults));
}

// Issue 9 row 8: every IPv6 spelling that carries an IPv4 address is judged
// as that IPv4 address (NAT64, 6to4, IPv4-compatible, SIIT, mapped).
TEST(ControlPolicy, EveryIpv4InIpv6FormIsJudgedAsItsIpv4) {
  const ControlOptions defaults;
  for (const char* ip : {"64:ff9b::7f00:1", "64:ff9b::a00:1", "64:ff9b::a9fe:a9fe", "2002:7f00:1::1",
                         "2002:a00:1::", "2002:c0a8:101::5", "::7f00:1", "::a00:1", "::ffff:0:7f00:1",
                         "::ffff:0:a00:1", "::ffff:7f00:1", "[::ffff:7f00:1]", "2001:0:4136:e378::1",
                         "::2"}) {
    EXPECT_FALSE(address_allowed(ip, defaults)) << ip;
  }
  EXPECT_TRUE(address_allowed("64:ff9b::9df0:101", defaults));  // 157.240.1.1 through NAT64
  ControlOptions loopback;
  IpNetwork net;
  ASSERT_TRUE(parse_ip_network("127.0.0.0/8", net));
  loopback.allowed_networks = {net};
  EXPECT_TRUE(address_allowed("64:ff9b::7f00:1", loopback));  // the same address, another spelling
}

// Row 8: no caller-chosen POST body (only the probe's zero bytes).
TEST(ControlValidation, PostBodiesAreOnlyTheProbesZeroBytes) {
  for (const std::string& body : {std::string("log=admin&pwd=guess1"), std::string(65, '\0'), std::string("\0\0x", 3)}) {
    const json answer = handle_control_request(
        {{"http_request", "http://127.0.0.1:1/"}, {"x_http_method", "POST"}, {"x_http_body", body}}, {});
    ASSERT_TRUE(answer.contains("error")) << answer.dump();
    EXPECT_NE(answer["error"].get<std::string>().find("zero bytes"), std::string::npos);
  }
}

TEST(ControlPolicy, AllowedNetworksAreTheOnlyOnesAllowed) {
  const ControlOptions options = loopback_only();
  EXPECT_TRUE(address_allowed("127.0.0.1", options));
  EXPECT_TRUE(address_allowed("127.255.0.9", options));
  EXPECT_TRUE(address_allowed("::ffff:127.0.0.1", options));  // the same address, spelt as IPv6
  EXPECT_FALSE(address_allowed("::1", options));
  EXPECT_FALSE(address_allowed("128.0.0.1", options));
  EXPECT_FALSE(address_allowed("157.240.1.1", options));

  ControlOptions lab;
  IpNetwork network;
  ASSERT_TRUE(parse_ip_network("198.18.0.0/15", network));
  lab.allowed_networks.push_back(network);
  EXPECT_TRUE(address_allowed("198.19.255.254", lab));
  EXPECT_FALSE(address_allowed("198.20.0.1", lab));
  EXPECT_FALSE(address_allowed("127.0.0.1", lab));
}

TEST(ControlPolicy, AllowPrivateAllowsEverything) {
  ControlOptions options;
  options.allow_private = true;
  EXPECT_TRUE(address_allowed("127.0.0.1", options));
  EXPECT_TRUE(address_allowed("fe80::1", options));
}

TEST(ControlPolicy, RefusedAddressesAreNeverContacted) {
  TargetServer target;
  ControlOptions defaults;  // loopback refused
  const json answer = handle_control_request(
      {{"http_request", "http://" + loopback(target.port()) + "/page"},
       {"tcp_connect", {loopback(target.port()), "[::ffff:127.0.0.1]:" + std::to_string(target.port())}}},
      defaults);
  ASSERT_FALSE(answer.contains("error")) << answer.dump();
  for (const auto& [key, entry] : answer["tcp_connect"].items()) {
    EXPECT_EQ(entry["status"], false) << key;
    EXPECT_EQ(entry["failure"], kRefusedByPolicy) << key;
  }
  EXPECT_EQ(answer["http_request"]["failure"], kRefusedByPolicy);
  EXPECT_EQ(answer["http_request"]["status_code"], -1);
  EXPECT_EQ(target.requests(), 0);
}

// ------------------------------------------------------------ measurements

TEST(ControlMeasurement, TcpConnectListeningAndClosedPorts) {
  ListeningPort listening;
  ClosedPort closed;
  const std::string open_key = loopback(listening.port());
  const std::string closed_key = loopback(closed.port());
  const json answer = handle_control_request(
      {{"http_request", "http://" + closed_key + "/"}, {"tcp_connect", {open_key, closed_key, open_key}}},
      loopback_only());
  ASSERT_FALSE(answer.contains("error")) << answer.dump();
  ASSERT_EQ(answer["tcp_connect"].size(), 2u);  // duplicates measured once
  EXPECT_EQ(answer["tcp_connect"][open_key]["status"], true);
  EXPECT_TRUE(answer["tcp_connect"][open_key]["failure"].is_null());
  EXPECT_EQ(answer["tcp_connect"][closed_key]["status"], false);
  EXPECT_EQ(answer["tcp_connect"][closed_key]["failure"], "connection_refused");
  EXPECT_FALSE(answer.contains("tls_handshake"));  // http URL
  EXPECT_EQ(answer["dns"]["failure"], nullptr);
  EXPECT_EQ(answer["dns"]["addrs"], json::array({"127.0.0.1"}));
  EXPECT_EQ(answer["ip_info"], json::object());
}

TEST(ControlMeasurement, HttpRequestStatusLengthTitleHeaders) {
  TargetServer target;
  const json answer = handle_control_request(
      {{"http_request", "http://" + loopback(target.port()) + "/page"},
       {"http_request_headers", {{"User-Agent", {"ooniprobe-test/1"}}, {"Accept", {"*/*"}}}},
       {"tcp_connect", {loopback(target.port())}}},
      loopback_only());
  ASSERT_FALSE(answer.contains("error")) << answer.dump();
  const json& http = answer["http_request"];
  EXPECT_TRUE(http["failure"].is_null()) << http.dump();
  EXPECT_EQ(http["status_code"], 200);
  EXPECT_EQ(http["body_length"], std::string(testing::kPageHtml).size());
  EXPECT_EQ(http["title"], "Vantage control test");
  // Only the kept headers come back: never cookies or a site's own headers.
  EXPECT_FALSE(http["headers"].contains("X-Test")) << http.dump();
  EXPECT_FALSE(http["headers"].contains("Set-Cookie")) << http.dump();
  EXPECT_TRUE(http["headers"].contains("Content-Type")) << http.dump();
  // The client's User-Agent is never forwarded: the helper sends its own.
  EXPECT_EQ(target.last_user_agent(), "vantage-testhelper");
  EXPECT_EQ(answer["tcp_connect"][loopback(target.port())]["status"], true);
}

TEST(ControlMeasurement, HttpBodyLengthCountsPastWhatIsKept) {
  TargetServer target;
  const json answer =
      handle_control_request({{"http_request", "http://" + loopback(target.port()) + "/big"}}, loopback_only());
  EXPECT_EQ(answer["http_request"]["status_code"], 200);
  EXPECT_EQ(answer["http_request"]["body_length"], 100000);
  EXPECT_EQ(answer["http_request"]["title"], "");
}

TEST(ControlMeasurement, RedirectsAreReportedNotFollowed) {
  TargetServer target;
  const json answer = handle_control_request(
      {{"http_request", "http://" + loopback(target.port()) + "/redirect"}}, loopback_only());
  EXPECT_EQ(answer["http_request"]["status_code"], 302);
  EXPECT_EQ(answer["http_request"]["headers"]["Location"], "/page");
  EXPECT_EQ(target.requests(), 1);
}

TEST(ControlMeasurement, PostExtension) {
  TargetServer target;
  const json answer = handle_control_request({{"http_request", "http://" + loopback(target.port()) + "/echo"},
                                              {"x_http_method", "POST"},
                                              {"x_http_body", std::string(16, '\0')}},
                                             loopback_only());
  EXPECT_EQ(answer["http_request"]["status_code"], 201);
  EXPECT_EQ(answer["http_request"]["body_length"], 23);  // "posted:" and the 16 bytes
}

TEST(ControlMeasurement, HttpFailureIsMinusOne) {
  ClosedPort closed;
  const json answer = handle_control_request(
      {{"http_request", "http://" + loopback(closed.port()) + "/"}, {"tcp_connect", {loopback(closed.port())}}},
      loopback_only());
  const json& http = answer["http_request"];
  EXPECT_EQ(http["failure"], "connection_refused");
  EXPECT_EQ(http["status_code"], -1);
  EXPECT_EQ(http["body_length"], -1);
  EXPECT_EQ(http["title"], "");
  EXPECT_EQ(http["headers"], json::object());
}

TEST(ControlMeasurement, DnsFailureForInvalidName) {
  if (!testing::network_isolated()) GTEST_SKIP() << "resolving a name needs a private network namespace";
  const auto started = std::chrono::steady_clock::now();
  const json answer = handle_control_request({{"http_request", "http://vantage-control-test.invalid/"}},
                                             loopback_only());
  ASSERT_FALSE(answer.contains("error")) << answer.dump();
  ASSERT_TRUE(answer["dns"]["failure"].is_string()) << answer.dump();
  const std::string failure = answer["dns"]["failure"];
  // No resolver reachable here: a temporary failure; with one, NXDOMAIN.
  EXPECT_TRUE(failure == "dns_temporary_failure" || failure == "dns_nxdomain_error") << failure;
  EXPECT_EQ(answer["dns"]["addrs"], json::array());
  // Nowhere to send the request: it fails the way the lookup did.
  EXPECT_EQ(answer["http_request"]["failure"], failure);
  EXPECT_EQ(answer["http_request"]["status_code"], -1);
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(15));
}

TEST(ControlMeasurement, HttpsHandshakesWithUrlHostAndPinsTheRequest) {
  if (!testing::network_isolated()) GTEST_SKIP() << "resolving a name needs a private network namespace";
  const auto& pki = net::testing::test_pki();
  TargetServer good(&pki.good_leaf);
  TargetServer untrusted(&pki.untrusted_leaf);
  ClosedPort closed;
  const std::string good_key = loopback(good.port());
  const std::string untrusted_key = loopback(untrusted.port());
  const std::string closed_key = loopback(closed.port());
  // good.test does not resolve here: only the pin can take the request there.
  const json answer = handle_control_request(
      {{"http_request", "https://good.test:" + std::to_string(good.port()) + "/page"},
       {"tcp_connect", {closed_key, untrusted_key, good_key}}},
      loopback_only());
  ASSERT_FALSE(answer.contains("error")) << answer.dump();
  ASSERT_TRUE(answer.contains("tls_handshake")) << answer.dump();
  const json& tls = answer["tls_handshake"];
  EXPECT_FALSE(tls.contains(closed_key));  // no handshake without a connection
  EXPECT_EQ(tls[good_key]["server_name"], "good.test");
  EXPECT_EQ(tls[good_key]["status"], true);
  EXPECT_TRUE(tls[good_key]["failure"].is_null());
  EXPECT_EQ(tls[untrusted_key]["status"], false);
  EXPECT_EQ(tls[untrusted_key]["failure"], "ssl_unknown_authority");
  ASSERT_TRUE(answer["dns"]["failure"].is_string());

  // Pinned to the first requested endpoint on the URL's port that connected.
  const json& http = answer["http_request"];
  EXPECT_TRUE(http["failure"].is_null()) << http.dump();
  EXPECT_EQ(http["status_code"], 200);
  EXPECT_EQ(http["title"], "Vantage control test");
  EXPECT_EQ(good.requests(), 1);
}

TEST(ControlMeasurement, HttpsPinnedToAnUntrustedServerFails) {
  const auto& pki = net::testing::test_pki();
  TargetServer untrusted(&pki.untrusted_leaf);
  // The leaf carries an IP SAN for 127.0.0.1, so only trust is wrong.
  const json answer = handle_control_request({{"http_request", "https://" + loopback(untrusted.port()) + "/page"},
                                              {"tcp_connect", {loopback(untrusted.port())}}},
                                             loopback_only());
  EXPECT_EQ(answer["tls_handshake"][loopback(untrusted.port())]["failure"], "ssl_unknown_authority");
  EXPECT_EQ(answer["http_request"]["failure"], "ssl_unknown_authority");
  EXPECT_EQ(answer["http_request"]["status_code"], -1);
}

TEST(ControlMeasurement, NonUtf8TitleAndHeadersAreRepaired) {
  TargetServer target;
  const json answer =
      handle_control_request({{"http_request", "http://" + loopback(target.port()) + "/latin1"}}, loopback_only());
  EXPECT_EQ(answer["http_request"]["status_code"], 200);
  EXPECT_EQ(answer["http_request"]["title"], "caf\xEF\xBF\xBD");
  EXPECT_FALSE(answer["http_request"]["headers"].contains("X-Latin1"));  // not a kept header
  EXPECT_NO_THROW((void)answer.dump());  // strict dump: throws on invalid UTF-8
}

}  // namespace
}  // namespace vantage::control
