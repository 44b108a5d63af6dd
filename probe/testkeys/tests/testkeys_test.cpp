// Tests for the test-key builders: test_keys built from a hand-made catalog service and
// engine observations (shaped as the engine records them), checked for
// OONI's service keys (ts-018 WhatsApp, ts-029 Signal), our WeChat keys, the
// plan keys and the canary summary.
#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <tuple>

#include "analysis/verdict/verdict.h"
#include "probe/testkeys/service_keys.h"
#include "probe/testkeys/testkeys.h"

namespace vantage::testkeys {
namespace {

using nlohmann::json;

// Records observations and x_endpoints the way probe/engine does: one DNS
// transaction per host, one transaction per (ip, port) chain.
class Observed {
 public:
  // Resolves `host` to `ip`, or fails with `dns_failure`. Returns the DNS transaction.
  int64_t resolve(const std::string& host, const std::string& ip, const std::string& dns_failure = "") {
    format::DnsObservation q;
    q.transaction_id = next_tx_++;
    q.engine = "getaddrinfo";
    q.hostname = host;
    q.query_type = "ANY";
    if (dns_failure.empty()) q.answers.push_back({"A", ip, "", "", 300});
    else q.failure = dns_failure;
    obs.queries.push_back(q);
    return q.transaction_id;
  }

  // Adds one endpoint (one port) of `e`, with the failure (if any) of the
  // step `failed_step` ("dns", "tcp", "tls", "http").
  void endpoint(const catalog::Endpoint& e, int port, const std::string& failed_step = "",
                const std::string& failure = "", const std::string& answer = "198.18.1.2") {
    const std::string& ip = catalog::is_address_literal(e.host) ? e.host : answer;
    // An address literal is not looked up (the engine sends no query).
    const bool literal = catalog::is_address_literal(e.host);
    int64_t dns_tx = literal ? -1 : resolve(e.host, ip, failed_step == "dns" ? failure : "");
    format::PlannedEndpoint ep;
    ep.host = e.host;
    ep.chain = catalog::chain_name(e.chain);
    ep.feature = e.feature;
    ep.judged = e.judged;
    ep.throughput = e.throughput;
    ep.dns_transaction_id = dns_tx;
    if (!e.url.empty()) ep.url = e.url, ep.method = e.method;
    if (e.chain == catalog::Chain::Dns) {
      ep.endpoint = e.host;
      obs.endpoints.push_back(ep);
      return;
    }
    ep.endpoint = e.host + ":" + std::to_string(port);
    ep.port = port;
    if (failed_step == "dns") {
      obs.endpoints.push_back(ep);
      return;
    }
    const int64_t tx = next_tx_++;
    ep.ip = ip;
    ep.transaction_id = tx;
    ep.attempts = 1;
    obs.endpoints.push_back(ep);

    auto fail_if = [&](const char* step) { return failed_step == step ? format::Failure(failure) : format::Failure(); };
    format::TcpConnectObservation tcp;
    tcp.transaction_id = tx;
    tcp.ip = ip;
    tcp.port = port;
    tcp.failure = fail_if("tcp");
    obs.tcp_connect.push_back(tcp);
    if (tcp.failure || e.chain == catalog::Chain::Tcp) return;
    if (e.chain == catalog::Chain::Tls || e.chain == catalog::Chain::Https) {
      format::TlsHandshakeObservation tls;
      tls.transaction_id = tx;
      tls.address = ip + ":" + std::to_string(port);
      tls.server_name = e.host;
      tls.failure = fail_if("tls");
      obs.tls_handshakes.push_back(tls);
      if (tls.failure || e.chain == catalog::Chain::Tls) return;
    }
    format::HttpObservation http;
    http.transaction_id = tx;
    http.address = ip + ":" + std::to_string(port);
    http.url = e.url;
    http.method = e.method;
    http.failure = fail_if("http");
    if (!http.failure) http.status_code = 200;
    if (e.throughput && !http.failure) {
      http.body_bytes_received = 1 << 20;
      http.download_seconds = download_seconds;
    }
    obs.requests.push_back(http);
  }

  engine::ServiceObservations obs;
  double download_seconds = 1.0;  // for throughput endpoints' 1 MiB body

 private:
  int64_t next_tx_ = 1;
};

catalog::Endpoint tcp_endpoint(const std::string& host, std::vector<int> ports, const std::string& feature) {
  catalog::Endpoint e;
  e.host = host;
  e.ports = std::move(ports);
  e.chain = catalog::Chain::Tcp;
  e.feature = feature;
  return e;
}

catalog::Endpoint web_endpoint(const std::string& url, const std::string& feature, catalog::Chain chain = catalog::Chain::Https) {
  catalog::Endpoint e;
  e.url = url;
  auto start = url.find("://") + 3;
  e.host = url.substr(start, url.find('/', start) - start);
  e.ports = {chain == catalog::Chain::Https ? 443 : 80};
  e.chain = chain;
  e.feature = feature;
  return e;
}

// The OONI key names each feature carries, as the real catalog file names
// them (so these tests also check the catalog keeps OONI's names).
void use_catalog_ooni_keys(catalog::Service& s, const std::string& file) {
  auto r = catalog::load_catalog_file(std::string(VANTAGE_SOURCE_DIR) + "/tests_catalog/" + file);
  ASSERT_TRUE(r.ok()) << r.errors[0].to_string();
  ASSERT_EQ(r.catalog.services.size(), 1u);
  for (auto& f : s.features)
    for (const auto& real : r.catalog.services[0].features)
      if (real.name == f.name) {
        f.ooni_status_key = real.ooni_status_key;
        f.ooni_failure_key = real.ooni_failure_key;
      }
}

json ok_canary() { return {{"status", "ok"}, {"throughput_kbps", 50000}, {"endpoints", json::array()}}; }

// --- WhatsApp (ts-018) ---

catalog::Service whatsapp() {
  catalog::Service s;
  s.name = s.test_name = "whatsapp";
  s.test_version = "0.1.0";
  s.asns = {"AS32934"};
  s.prefixes = {"198.18.1.0/24"};
  s.features = {{"messaging", "chat", "any"}, {"registration", "reg", "all"}, {"web", "web", "all"}};
  for (int i = 1; i <= 3; ++i)
    s.endpoints.push_back(tcp_endpoint("e" + std::to_string(i) + ".whatsapp.net", {443, 5222}, "messaging"));
  s.endpoints.push_back(web_endpoint("https://v.whatsapp.net/v2/register", "registration"));
  s.endpoints.push_back(web_endpoint("https://web.whatsapp.com/", "web"));
  use_catalog_ooni_keys(s, "whatsapp.json");
  return s;
}

// With the media feature: a download that measures throughput.
catalog::Service whatsapp_with_media() {
  auto s = whatsapp();
  s.features.push_back({"media", "media", "all"});
  use_catalog_ooni_keys(s, "whatsapp.json");
  auto media = web_endpoint("https://mmg.whatsapp.net/mms/image/", "media");
  media.throughput = true;
  s.endpoints.push_back(media);
  return s;
}

// Observations for the WhatsApp service; `fail` maps "host:port" to {step, failure}.
engine::ServiceObservations whatsapp_obs(const catalog::Service& s,
                                         const std::map<std::string, std::pair<std::string, std::string>>& fail = {}) {
  Observed o;
  for (const auto& e : s.endpoints)
    for (int port : e.ports) {
      auto it = fail.find(e.host + ":" + std::to_string(port));
      if (it == fail.end()) o.endpoint(e, port);
      else o.endpoint(e, port, it->second.first, it->second.second);
    }
  return o.obs;
}

TEST(WhatsApp, AllOk) {
  auto s = whatsapp();
  json k = build_test_keys(s, whatsapp_obs(s), ok_canary());
  EXPECT_EQ(k["whatsapp_endpoints_status"], "ok");
  EXPECT_EQ(k["whatsapp_endpoints_blocked"], json::array());
  EXPECT_EQ(k["whatsapp_endpoints_dns_inconsistent"], json::array());
  EXPECT_EQ(k["registration_server_status"], "ok");
  EXPECT_TRUE(k["registration_server_failure"].is_null());
  EXPECT_EQ(k["whatsapp_web_status"], "ok");
  EXPECT_TRUE(k["whatsapp_web_failure"].is_null());
  EXPECT_EQ(k["x_verdict"]["status"], "accessible");
}

TEST(WhatsApp, EndpointListedOnlyWhenBothPortsFail) {
  auto s = whatsapp();
  json k = build_test_keys(s,
                           whatsapp_obs(s, {{"e1.whatsapp.net:443", {"tcp", "connection_reset"}},
                                            {"e1.whatsapp.net:5222", {"tcp", "generic_timeout_error"}},
                                            {"e2.whatsapp.net:5222", {"tcp", "connection_refused"}}}),
                           ok_canary());
  EXPECT_EQ(k["whatsapp_endpoints_blocked"], json::array({"e1.whatsapp.net"}));
  EXPECT_EQ(k["whatsapp_endpoints_status"], "ok");  // e3 (and e2:443) connect
  EXPECT_EQ(k["x_verdict"]["features"]["messaging"]["status"], "accessible");
}

TEST(WhatsApp, AllChatEndpointsBlocked) {
  auto s = whatsapp();
  std::map<std::string, std::pair<std::string, std::string>> fail;
  for (int i = 1; i <= 3; ++i)
    for (int port : {443, 5222}) fail["e" + std::to_string(i) + ".whatsapp.net:" + std::to_string(port)] = {"tcp", "connection_reset"};
  json k = build_test_keys(s, whatsapp_obs(s, fail), ok_canary());
  EXPECT_EQ(k["whatsapp_endpoints_status"], "blocked");
  EXPECT_EQ(k["whatsapp_endpoints_blocked"], json::array({"e1.whatsapp.net", "e2.whatsapp.net", "e3.whatsapp.net"}));
  EXPECT_EQ(k["registration_server_status"], "ok");
  EXPECT_EQ(k["x_verdict"]["status"], "partially_blocked");
}

TEST(WhatsApp, DnsInconsistent) {
  auto s = whatsapp();
  json k = build_test_keys(s,
                           whatsapp_obs(s, {{"e2.whatsapp.net:443", {"dns", "dns_nxdomain_error"}},
                                            {"e2.whatsapp.net:5222", {"dns", "dns_nxdomain_error"}}}),
                           ok_canary());
  EXPECT_EQ(k["whatsapp_endpoints_dns_inconsistent"], json::array({"e2.whatsapp.net"}));
  EXPECT_EQ(k["whatsapp_endpoints_blocked"], json::array({"e2.whatsapp.net"}));
}

TEST(WhatsApp, RegistrationAndWebFailures) {
  auto s = whatsapp();
  json k = build_test_keys(s,
                           whatsapp_obs(s, {{"v.whatsapp.net:443", {"tls", "connection_reset"}},
                                            {"web.whatsapp.com:443", {"http", "eof_error"}}}),
                           ok_canary());
  EXPECT_EQ(k["whatsapp_endpoints_status"], "ok");
  EXPECT_EQ(k["registration_server_status"], "blocked");
  EXPECT_EQ(k["registration_server_failure"], "connection_reset");
  EXPECT_EQ(k["whatsapp_web_status"], "blocked");
  EXPECT_EQ(k["whatsapp_web_failure"], "eof_error");
  EXPECT_EQ(k["x_verdict"]["methods"], json::array({"http", "tls"}));
}

TEST(WhatsApp, PlanKeys) {
  auto s = whatsapp();
  auto obs = whatsapp_obs(s);
  json k = build_test_keys(s, obs, ok_canary());
  for (const char* a : {"queries", "tcp_connect", "tls_handshakes", "requests", "network_events", "x_endpoints"})
    EXPECT_TRUE(k[a].is_array()) << a;
  EXPECT_EQ(k["queries"].size(), obs.queries.size());
  EXPECT_EQ(k["tcp_connect"].size(), 8u);  // 3 hosts × 2 ports + registration + web
  EXPECT_EQ(k["tls_handshakes"].size(), 2u);
  EXPECT_EQ(k["requests"].size(), 2u);
  EXPECT_EQ(k["x_endpoints"], format::to_json(obs.endpoints));
  EXPECT_EQ(k["x_features"]["messaging"]["rule"], "any");
  EXPECT_EQ(k["x_features"]["registration"]["rule"], "all");
  EXPECT_EQ(k["x_features"]["web"]["judged"], true);
  EXPECT_EQ(k["x_networks"]["asns"], json::array({"AS32934"}));
  EXPECT_EQ(k["x_networks"]["prefixes"], json::array({"198.18.1.0/24"}));
  EXPECT_EQ(k["x_canary"], ok_canary());
  EXPECT_TRUE(k["x_control"].is_null());  // no control used
  EXPECT_EQ(k["x_verdict"]["confidence"], "medium");
  // Re-scoring the stored keys gives the stored verdict.
  json reread = json::parse(k.dump());
  EXPECT_EQ(analysis::compute_verdict(reread), k["x_verdict"]);
  // No other service's keys.
  EXPECT_FALSE(k.contains("signal_backend_status"));
  EXPECT_FALSE(k.contains("wechat_long_link_status"));
}

TEST(WhatsApp, ControlRecordedAndUsed) {
  auto s = whatsapp();
  auto obs = whatsapp_obs(s, {{"web.whatsapp.com:443", {"tcp", "generic_timeout_error"}}});
  format::ControlResponse answer;
  answer.dns = format::ControlDns{std::nullopt, {"198.18.1.2"}};
  answer.tcp_connect = std::map<std::string, format::ControlConnect>{{"198.18.1.2:443", {false, "generic_timeout_error"}}};
  obs.control = format::ControlRecord{"https://control.test/", {{"web.whatsapp.com:443", answer}}, std::nullopt};
  json k = build_test_keys(s, obs, ok_canary());
  EXPECT_EQ(k["x_control"], format::to_json(*obs.control));
  // The stored shape, field by field.
  EXPECT_EQ(k["x_control"]["url"], "https://control.test/");
  EXPECT_TRUE(k["x_control"]["unreachable"].is_null());
  EXPECT_EQ(k["x_control"]["answers"]["web.whatsapp.com:443"]["tcp_connect"]["198.18.1.2:443"],
            json({{"status", false}, {"failure", "generic_timeout_error"}}));
  EXPECT_EQ(k["x_control"]["answers"]["web.whatsapp.com:443"]["dns"], json({{"failure", nullptr}, {"addrs", {"198.18.1.2"}}}));
  EXPECT_EQ(k["x_verdict"]["features"]["web"]["status"], "down");
  EXPECT_EQ(k["x_verdict"]["confidence"], "high");
  // OONI's key has no "down": the endpoint failed, so it reads "blocked".
  EXPECT_EQ(k["whatsapp_web_status"], "blocked");
  EXPECT_EQ(k["whatsapp_web_failure"], "generic_timeout_error");
}

// --- Signal (ts-029) ---

catalog::Service signal_service() {
  catalog::Service s;
  s.name = s.test_name = "signal";
  s.test_version = "0.1.0";
  s.features = {{"messaging", "", "all"}, {"contacts", "", "all"}, {"calls", "", "all"},
                {"storage", "", "all"},   {"updates", "", "all"},  {"uptime", "", "all"}};
  // OONI's four backends, as the catalog names them (ooni_id).
  for (const auto& [url, feature, id] : std::vector<std::tuple<std::string, std::string, std::string>>{
           {"https://chat.signal.org/", "messaging", "chat"},
           {"https://cdsi.signal.org/", "contacts", "cdsi"},
           {"https://sfu.voip.signal.org/", "calls", "sfu"},
           {"https://storage.signal.org/", "storage", "storage"}}) {
    s.endpoints.push_back(web_endpoint(url, feature));
    s.endpoints.back().ooni_id = id;
  }
  auto updates = web_endpoint("https://updates.signal.org/desktop/Packages", "updates");
  updates.throughput = true;
  s.endpoints.push_back(updates);
  catalog::Endpoint uptime;
  uptime.host = "uptime.signal.org";
  uptime.chain = catalog::Chain::Dns;
  uptime.feature = "uptime";
  uptime.judged = false;
  s.endpoints.push_back(uptime);
  return s;
}

engine::ServiceObservations signal_obs(const catalog::Service& s, const std::string& failing_host = "",
                                       const std::string& step = "", const std::string& failure = "") {
  Observed o;
  for (const auto& e : s.endpoints) {
    int port = e.ports.empty() ? 0 : e.ports[0];
    if (e.host == failing_host) o.endpoint(e, port, step, failure);
    else o.endpoint(e, port);
  }
  return o.obs;
}

TEST(Signal, AllOk) {
  auto s = signal_service();
  json k = build_test_keys(s, signal_obs(s), ok_canary());
  EXPECT_EQ(k["signal_backend_status"], "ok");
  EXPECT_TRUE(k["signal_backend_failure"].is_null());
  EXPECT_EQ(k["x_verdict"]["status"], "accessible");
  EXPECT_EQ(k["x_features"]["uptime"]["judged"], false);  // its only endpoint is not judged
  EXPECT_FALSE(k["x_verdict"]["features"].contains("uptime"));
}

TEST(Signal, CarriesOonisExperimentFailureKeysNullWhenItRan) {
  // ts-029: test_keys.failure and failed_operation must be present (OONI's
  // pipeline scores a measurement without them as failed), null when the
  // experiment ran, even when a backend is blocked.
  auto s = signal_service();
  for (const json& k : {build_test_keys(s, signal_obs(s), ok_canary()),
                        build_test_keys(s, signal_obs(s, "cdsi.signal.org", "tls", "ssl_unknown_authority"), ok_canary())}) {
    ASSERT_TRUE(k.contains("failure"));
    ASSERT_TRUE(k.contains("failed_operation"));
    EXPECT_TRUE(k["failure"].is_null());
    EXPECT_TRUE(k["failed_operation"].is_null());
  }
}

TEST(Signal, OneBackendFailing) {
  auto s = signal_service();
  json k = build_test_keys(s, signal_obs(s, "cdsi.signal.org", "tls", "ssl_unknown_authority"), ok_canary());
  EXPECT_EQ(k["signal_backend_status"], "blocked");
  EXPECT_EQ(k["signal_backend_failure"], "ssl_unknown_authority");
  EXPECT_EQ(k["x_verdict"]["features"]["contacts"]["status"], "blocked");
  EXPECT_EQ(k["x_verdict"]["status"], "partially_blocked");
}

TEST(Signal, UpdatesAndUptimeAreNotBackends) {
  auto s = signal_service();
  json k = build_test_keys(s, signal_obs(s, "updates.signal.org", "http", "connection_reset"), ok_canary());
  EXPECT_EQ(k["signal_backend_status"], "ok");
  EXPECT_TRUE(k["signal_backend_failure"].is_null());
  k = build_test_keys(s, signal_obs(s, "uptime.signal.org", "dns", "dns_nxdomain_error"), ok_canary());
  EXPECT_EQ(k["signal_backend_status"], "ok");
  EXPECT_EQ(k["x_verdict"]["status"], "accessible");
}

TEST(Signal, Throttling) {
  auto s = signal_service();
  // 1 MiB in 40 s is ~210 kbit/s against a 50 Mbit/s canary: throttled.
  Observed slow;
  slow.download_seconds = 40;
  for (const auto& e : s.endpoints) slow.endpoint(e, e.ports.empty() ? 0 : e.ports[0]);
  json k = build_test_keys(s, slow.obs, ok_canary());
  EXPECT_EQ(k["x_verdict"]["features"]["updates"]["status"], "blocked");
  EXPECT_EQ(k["x_verdict"]["methods"], json::array({"throttling"}));
  // Not one of OONI's four backends: OONI's key is unaffected.
  EXPECT_EQ(k["signal_backend_status"], "ok");

  // The same speed on a link whose canary is barely faster is a slow link.
  k = build_test_keys(s, slow.obs, {{"status", "ok"}, {"throughput_kbps", 250}});
  EXPECT_EQ(k["x_verdict"]["features"]["updates"]["status"], "accessible");
}

// --- WeChat ---

catalog::Service wechat() {
  catalog::Service s;
  s.name = s.test_name = "wechat";
  s.test_version = "0.1.0";
  s.features = {{"messaging", "", "any"}, {"short_link", "", "any"}, {"dns_service", "", "any"}, {"web", "", "any"}};
  use_catalog_ooni_keys(s, "wechat.json");
  s.endpoints.push_back(tcp_endpoint("long.weixin.qq.com", {80, 443, 8080}, "messaging"));
  s.endpoints.push_back(tcp_endpoint("hklong.weixin.qq.com", {80, 443, 8080}, "messaging"));
  auto shortlink = web_endpoint("http://short.weixin.qq.com/mmtls/00000000", "short_link", catalog::Chain::Http);
  shortlink.method = "POST";
  s.endpoints.push_back(shortlink);
  catalog::Endpoint dns;
  dns.host = "dns.weixin.qq.com";
  dns.chain = catalog::Chain::Dns;
  dns.feature = "dns_service";
  s.endpoints.push_back(dns);
  s.endpoints.push_back(web_endpoint("https://web.wechat.com/", "web"));
  return s;
}

engine::ServiceObservations wechat_obs(const catalog::Service& s,
                                       const std::map<std::string, std::pair<std::string, std::string>>& fail = {}) {
  Observed o;
  for (const auto& e : s.endpoints) {
    std::vector<int> ports = e.ports.empty() ? std::vector<int>{0} : e.ports;
    for (int port : ports) {
      std::string key = e.chain == catalog::Chain::Dns ? e.host : e.host + ":" + std::to_string(port);
      auto it = fail.find(key);
      if (it == fail.end()) o.endpoint(e, port);
      else o.endpoint(e, port, it->second.first, it->second.second);
    }
  }
  return o.obs;
}

// x_ipv6: the engine's record of the run's IPv6 decision, as written.
TEST(TestKeys, Ipv6RecordIsWritten) {
  auto s = wechat();
  auto obs = wechat_obs(s);
  obs.ipv6 = {false, "no_ipv6_route", 0};
  EXPECT_EQ(build_test_keys(s, obs, ok_canary())["x_ipv6"],
            json({{"usable", false}, {"reason", "no_ipv6_route"}, {"addresses", 0}}));
  obs.ipv6 = {true, "", 3};
  EXPECT_EQ(build_test_keys(s, obs, ok_canary())["x_ipv6"], json({{"usable", true}, {"reason", nullptr}, {"addresses", 3}}));
  obs.ipv6 = {std::nullopt, "no_aaaa_answer", 0};
  EXPECT_EQ(build_test_keys(s, obs, ok_canary())["x_ipv6"],
            json({{"usable", nullptr}, {"reason", "no_aaaa_answer"}, {"addresses", 0}}));
}

TEST(WeChat, AllOk) {
  auto s = wechat();
  json k = build_test_keys(s, wechat_obs(s), ok_canary());
  for (const char* key : {"wechat_long_link", "wechat_short_link", "wechat_dns_service", "wechat_web"}) {
    EXPECT_EQ(k[std::string(key) + "_status"], "ok") << key;
    EXPECT_TRUE(k[std::string(key) + "_failure"].is_null()) << key;
  }
  EXPECT_EQ(k["wechat_endpoints_blocked"], json::array());
  EXPECT_FALSE(k.contains("whatsapp_endpoints_status"));
}

TEST(WeChat, LongLinkPortsAndBlockedEndpoints) {
  auto s = wechat();
  std::map<std::string, std::pair<std::string, std::string>> fail;
  for (int port : {80, 443, 8080}) fail["long.weixin.qq.com:" + std::to_string(port)] = {"tcp", "generic_timeout_error"};
  fail["hklong.weixin.qq.com:8080"] = {"tcp", "connection_reset"};
  json k = build_test_keys(s, wechat_obs(s, fail), ok_canary());
  EXPECT_EQ(k["wechat_long_link_status"], "ok");  // hklong on 80/443 works
  EXPECT_EQ(k["wechat_endpoints_blocked"],
            json::array({"hklong.weixin.qq.com:8080", "long.weixin.qq.com:443", "long.weixin.qq.com:80",
                         "long.weixin.qq.com:8080"}));
}

TEST(WeChat, FeatureFailures) {
  auto s = wechat();
  std::map<std::string, std::pair<std::string, std::string>> fail;
  for (const char* host : {"long.weixin.qq.com", "hklong.weixin.qq.com"})
    for (int port : {80, 443, 8080}) fail[std::string(host) + ":" + std::to_string(port)] = {"tcp", "connection_reset"};
  fail["short.weixin.qq.com:80"] = {"http", "connection_reset"};
  fail["dns.weixin.qq.com"] = {"dns", "dns_nxdomain_error"};
  json k = build_test_keys(s, wechat_obs(s, fail), ok_canary());
  EXPECT_EQ(k["wechat_long_link_status"], "blocked");
  EXPECT_EQ(k["wechat_long_link_failure"], "connection_reset");
  EXPECT_EQ(k["wechat_short_link_status"], "blocked");
  EXPECT_EQ(k["wechat_short_link_failure"], "connection_reset");
  EXPECT_EQ(k["wechat_dns_service_status"], "blocked");
  EXPECT_EQ(k["wechat_dns_service_failure"], "dns_nxdomain_error");
  EXPECT_EQ(k["wechat_web_status"], "ok");
  EXPECT_EQ(k["x_verdict"]["status"], "partially_blocked");
}

// --- canary ---

catalog::Service canary_service() {
  catalog::Service s;
  s.name = s.test_name = "canary";
  s.canary = true;
  s.features = {{"network", "", "any"}};
  s.endpoints.push_back(web_endpoint("https://www.wikipedia.test/", "network"));
  auto speed = web_endpoint("https://speed.example.test/__down", "network");
  speed.throughput = true;
  s.endpoints.push_back(speed);
  return s;
}

TEST(Canary, OkWithThroughput) {
  auto s = canary_service();
  Observed o;
  o.endpoint(s.endpoints[0], 443);
  o.endpoint(s.endpoints[1], 443);
  json c = canary_summary(o.obs);
  EXPECT_EQ(c["status"], "ok");
  ASSERT_TRUE(c["throughput_kbps"].is_number());
  EXPECT_NEAR(c["throughput_kbps"].get<double>(), (1 << 20) * 8 / 1000.0, 0.01);
  ASSERT_EQ(c["endpoints"].size(), 2u);
  EXPECT_EQ(c["endpoints"][0]["endpoint"], "www.wikipedia.test:443");
  EXPECT_EQ(c["endpoints"][0]["status"], "ok");
  EXPECT_TRUE(c["endpoints"][0]["failure"].is_null());
}

TEST(Canary, OneWorkingEndpointIsEnough) {
  auto s = canary_service();
  Observed o;
  o.endpoint(s.endpoints[0], 443, "tcp", "connection_reset");
  o.endpoint(s.endpoints[1], 443);
  json c = canary_summary(o.obs);
  EXPECT_EQ(c["status"], "ok");
  EXPECT_EQ(c["endpoints"][0]["status"], "failed");
  EXPECT_EQ(c["endpoints"][0]["failure"], "connection_reset");
}

TEST(Canary, AllFailing) {
  auto s = canary_service();
  Observed o;
  o.endpoint(s.endpoints[0], 443, "dns", "dns_temporary_failure");
  o.endpoint(s.endpoints[1], 443, "tcp", "network_unreachable");
  json c = canary_summary(o.obs);
  EXPECT_EQ(c["status"], "failed");
  EXPECT_TRUE(c["throughput_kbps"].is_null());

  // A failed canary makes every service's verdict inconclusive.
  auto w = whatsapp();
  json k = build_test_keys(w, whatsapp_obs(w, {{"v.whatsapp.net:443", {"tls", "connection_reset"}}}), c);
  EXPECT_EQ(k["x_verdict"]["status"], "inconclusive");
  EXPECT_EQ(k["x_verdict"]["canary"], "failed");
  EXPECT_EQ(k["x_verdict"]["methods"], json::array());
}

TEST(Canary, RetriedRequestsDoNotCountForThroughput) {
  auto s = canary_service();
  Observed o;
  o.endpoint(s.endpoints[1], 443);
  o.obs.requests[0].tags.push_back("x_retried");
  json c = canary_summary(o.obs);
  EXPECT_TRUE(c["throughput_kbps"].is_null());
}

TEST(Canary, Absent) {
  json c = canary_summary(engine::ServiceObservations{});
  EXPECT_EQ(c["status"], "absent");
  EXPECT_TRUE(c["throughput_kbps"].is_null());
  EXPECT_EQ(c["endpoints"], json::array());
  // An absent canary does not stop services from being judged.
  auto w = whatsapp();
  json k = build_test_keys(w, whatsapp_obs(w), c);
  EXPECT_EQ(k["x_verdict"]["status"], "accessible");
}

TEST(WhatsApp, MediaBlockedWhileChatWorks) {
  auto s = whatsapp_with_media();
  json k = build_test_keys(s, whatsapp_obs(s, {{"mmg.whatsapp.net:443", {"tls", "connection_reset"}}}), ok_canary());
  EXPECT_EQ(k["whatsapp_endpoints_status"], "ok");  // OONI's keys do not see media
  EXPECT_EQ(k["x_whatsapp_media_status"], "blocked");
  EXPECT_EQ(k["x_whatsapp_media_failure"], "connection_reset");
  EXPECT_EQ(k["x_verdict"]["status"], "partially_blocked");
  EXPECT_EQ(k["x_verdict"]["features"]["media"]["methods"], json::array({"tls"}));
  EXPECT_EQ(k["x_verdict"]["features"]["messaging"]["status"], "accessible");
}

TEST(WhatsApp, MediaThrottled) {
  auto s = whatsapp_with_media();
  auto obs = whatsapp_obs(s);
  for (auto& r : obs.requests)
    if (r.url.find("mmg.") != std::string::npos) r.download_seconds = 20.0;  // 1 MiB in 20 s: ~420 kbit/s
  json k = build_test_keys(s, obs, ok_canary());
  EXPECT_EQ(k["x_whatsapp_media_status"], "blocked");
  EXPECT_EQ(k["x_verdict"]["features"]["media"]["methods"], json::array({"throttling"}));
  json fast = build_test_keys(s, whatsapp_obs(s), ok_canary());
  EXPECT_EQ(fast["x_whatsapp_media_status"], "ok");
  EXPECT_EQ(fast["x_verdict"]["features"]["media"]["status"], "accessible");
}

// --- A service with no code: generic keys, and the OONI keys its catalog names ---

TEST(CatalogOnlyService, GetsTheKeysItsCatalogNames) {
  catalog::Service s;
  s.name = s.test_name = "demo_chat";
  s.test_version = "0.1.0";
  s.features = {{"chat", "", "any"}, {"web", "", "all"}};
  s.features[0].ooni_status_key = "demo_chat_status";
  s.features[0].ooni_failure_key = "demo_chat_failure";
  s.features[1].ooni_status_key = "demo_web_status";
  s.endpoints.push_back(tcp_endpoint("chat.demo.test", {443, 5222}, "chat"));
  s.endpoints.push_back(web_endpoint("https://www.demo.test/", "web"));
  ASSERT_EQ(service_keys_builder(s.test_name), nullptr);  // nothing registered for it
  // 5222 refused: "any" (the catalog's rule) keeps chat ok; web works.
  Observed o;
  o.endpoint(s.endpoints[0], 443);
  o.endpoint(s.endpoints[0], 5222, "tcp", "connection_refused");
  o.endpoint(s.endpoints[1], 443);
  json k = build_test_keys(s, o.obs, ok_canary());
  EXPECT_EQ(k["demo_chat_status"], "ok");
  EXPECT_EQ(k["demo_chat_failure"], nullptr);
  EXPECT_EQ(k["demo_web_status"], "ok");
  EXPECT_FALSE(k.contains("demo_web_failure"));
  EXPECT_EQ(k["x_features"]["chat"]["rule"], "any");
  EXPECT_EQ(k["x_verdict"]["status"], "accessible");
  // With the rule "all" the same observations are blocked, the first failure kept.
  s.features[0].rule = "all";
  k = build_test_keys(s, o.obs, ok_canary());
  EXPECT_EQ(k["demo_chat_status"], "blocked");
  EXPECT_EQ(k["demo_chat_failure"], "connection_refused");
  // Exactly the generic keys plus the three named: nothing service-specific.
  std::set<std::string> names;
  for (auto it = k.begin(); it != k.end(); ++it) names.insert(it.key());
  EXPECT_EQ(names, (std::set<std::string>{"queries", "tcp_connect", "tls_handshakes", "requests", "network_events",
                                          "x_app_exchanges", "x_endpoints", "x_features", "x_networks", "x_canary", "x_control",
                                          "x_ipv6", "x_verdict", "failure", "failed_operation", "demo_chat_status",
                                          "demo_chat_failure", "demo_web_status"}));
}

// The service keys each real catalog file gives, by name: what OONI's
// pipeline and the lab read, so a catalog or builder change that renames,
// drops or adds one fails here.
TEST(ServiceKeys, RealCatalogsGiveTheSameKeyNames) {
  const std::set<std::string> generic = {"queries",    "tcp_connect", "tls_handshakes", "requests",  "network_events",
                                         "x_endpoints", "x_features", "x_networks",     "x_canary",  "x_control",
                                         "x_verdict",   "failure",    "failed_operation", "x_app_exchanges",
                                         "x_ipv6"};
  std::vector<std::string> fb = {"facebook_dns_blocking", "facebook_tcp_blocking", "x_facebook_tls_blocking", "x_ooni_spec"};
  for (const char* id : {"stun", "b_api", "b_graph", "edge", "external_cdn", "scontent_cdn", "star"}) {
    fb.push_back(std::string("facebook_") + id + "_dns_consistent");
    fb.push_back(std::string("facebook_") + id + "_reachable");
    if (std::string(id) != "stun") fb.push_back(std::string("x_facebook_") + id + "_tls_handshake");
  }
  const std::map<std::string, std::set<std::string>> want = {
      {"whatsapp.json",
       {"whatsapp_endpoints_status", "whatsapp_endpoints_blocked", "whatsapp_endpoints_dns_inconsistent",
        "registration_server_status", "registration_server_failure", "whatsapp_web_status", "whatsapp_web_failure",
        "x_whatsapp_media_status", "x_whatsapp_media_failure"}},
      {"signal.json", {"signal_backend_status", "signal_backend_failure"}},
      {"wechat.json",
       {"wechat_long_link_status", "wechat_long_link_failure", "wechat_short_link_status", "wechat_short_link_failure",
        "wechat_dns_service_status", "wechat_dns_service_failure", "wechat_web_status", "wechat_web_failure",
        "wechat_endpoints_blocked"}},
      {"facebook_messenger.json", std::set<std::string>(fb.begin(), fb.end())},
      {"telegram.json",
       {"telegram_tcp_blocking", "telegram_http_blocking", "telegram_web_status", "telegram_web_failure", "x_ooni_spec"}},
      {"canary.json", {}},
  };
  for (const auto& [file, keys] : want) {
    auto r = catalog::load_catalog_file(std::string(VANTAGE_SOURCE_DIR) + "/tests_catalog/" + file);
    ASSERT_TRUE(r.ok()) << file << ": " << r.errors[0].to_string();
    const auto& s = r.catalog.services.at(0);
    json k = build_test_keys(s, whatsapp_obs(s), ok_canary());
    std::set<std::string> got;
    for (auto it = k.begin(); it != k.end(); ++it)
      if (!generic.count(it.key())) got.insert(it.key());
    EXPECT_EQ(got, keys) << file;
  }
}

// Signal's backends are data: the shipped catalog names OONI's four, and
// only those count in signal_backend_status.
TEST(ServiceKeys, SignalCatalogNamesOonisFourBackends) {
  auto r = catalog::load_catalog_file(std::string(VANTAGE_SOURCE_DIR) + "/tests_catalog/signal.json");
  ASSERT_TRUE(r.ok()) << r.errors[0].to_string();
  std::map<std::string, std::string> ids;
  for (const auto& e : r.catalog.services.at(0).endpoints)
    if (!e.ooni_id.empty()) ids[e.ooni_id] = e.host;
  EXPECT_EQ(ids, (std::map<std::string, std::string>{{"cdsi", "cdsi.signal.org"},
                                                      {"chat", "chat.signal.org"},
                                                      {"sfu", "sfu.voip.signal.org"},
                                                      {"storage", "storage.signal.org"}}));
}

TEST(ServiceKeys, OneBuilderPerOoniSpecificService) {
  for (const char* name : {"whatsapp", "signal", "wechat", "facebook_messenger", "telegram"})
    EXPECT_NE(service_keys_builder(name), nullptr) << name;
  EXPECT_EQ(service_keys_builder("canary"), nullptr);
  EXPECT_EQ(service_keys_builder(""), nullptr);
}

// --- Facebook Messenger (ts-019) ---

// The real catalog file: the keys are checked against the names it lists.
catalog::Service facebook_messenger() {
  auto r = catalog::load_catalog_file(std::string(VANTAGE_SOURCE_DIR) + "/tests_catalog/facebook_messenger.json");
  EXPECT_TRUE(r.errors.empty()) << (r.errors.empty() ? "" : r.errors[0].to_string());
  if (r.catalog.services.empty()) ADD_FAILURE() << "facebook_messenger.json did not load";
  return r.catalog.services.empty() ? catalog::Service{} : r.catalog.services[0];
}

constexpr const char* kFbIp = "157.240.1.35";  // inside AS32934's prefixes in the catalog

// failures: "host" -> {step, failure}; ip: every name's answer.
engine::ServiceObservations fb_obs(const catalog::Service& s,
                                   const std::map<std::string, std::pair<std::string, std::string>>& failures = {},
                                   const std::string& ip = kFbIp) {
  Observed o;
  for (const auto& e : s.endpoints) {
    auto it = failures.find(e.host);
    int port = e.ports.empty() ? 0 : e.ports[0];
    if (it == failures.end()) o.endpoint(e, port, "", "", ip);
    else o.endpoint(e, port, it->second.first, it->second.second, ip);
  }
  return o.obs;
}

json ooni_example(const std::string& file) {
  std::ifstream in(std::string(VANTAGE_SOURCE_DIR) + "/reports/format/tests/data/ooni-examples/" + file);
  std::stringstream ss;
  ss << in.rdbuf();
  json j = json::parse(ss.str(), nullptr, false);
  if (j.is_discarded() || !j.contains("test_keys")) ADD_FAILURE() << file << " missing or not JSON";
  return j;
}

TEST(FacebookMessenger, CatalogHasOonisSevenNames) {
  auto s = facebook_messenger();
  EXPECT_EQ(s.test_name, "facebook_messenger");
  EXPECT_EQ(s.asns, std::vector<std::string>{"AS32934"});
  std::set<std::string> hosts;
  for (const auto& e : s.endpoints) {
    hosts.insert(e.host);
    if (e.host == "stun.fbsbx.com") {
      EXPECT_EQ(e.chain, catalog::Chain::Dns);  // UDP: looked up only
      EXPECT_FALSE(e.judged);
    } else {
      EXPECT_EQ(e.chain, catalog::Chain::Tls) << e.host;  // TCP 443, then a TLS handshake
      EXPECT_EQ(e.ports, std::vector<int>{443}) << e.host;
    }
  }
  EXPECT_EQ(hosts, (std::set<std::string>{"stun.fbsbx.com", "b-api.facebook.com", "b-graph.facebook.com",
                                          "edge-mqtt.facebook.com", "external.xx.fbcdn.net", "scontent.xx.fbcdn.net",
                                          "star.c10r.facebook.com"}));
}

TEST(FacebookMessenger, AllOkMatchesOonisExample) {
  auto s = facebook_messenger();
  json k = build_test_keys(s, fb_obs(s), ok_canary());
  const json example = ooni_example("facebook_messenger-0.4.0.json");
  std::set<std::string> theirs, ours;
  for (auto it = example["test_keys"].begin(); it != example["test_keys"].end(); ++it)
    if (it.key().rfind("facebook_", 0) == 0) theirs.insert(it.key());
  for (auto it = k.begin(); it != k.end(); ++it)
    if (it.key().rfind("facebook_", 0) == 0) ours.insert(it.key());
  EXPECT_EQ(ours, theirs);  // exactly OONI's key names, none added under its prefix
  ASSERT_EQ(theirs.size(), 16u);
  // The example is an all-ok run: the same values (stun_reachable null).
  for (const auto& key : theirs) EXPECT_EQ(k[key], example["test_keys"][key]) << key;
  for (const char* id : {"b_api", "b_graph", "edge", "external_cdn", "scontent_cdn", "star"})
    EXPECT_EQ(k[std::string("x_facebook_") + id + "_tls_handshake"], true) << id;
  EXPECT_FALSE(k.contains("x_facebook_stun_tls_handshake"));
  EXPECT_EQ(k["x_facebook_tls_blocking"], false);
  EXPECT_EQ(k["x_ooni_spec"], "ts-019 (2016-10-25-001), keys as OONI facebook_messenger 0.4.0");
  EXPECT_EQ(k["x_verdict"]["status"], "accessible");
  EXPECT_EQ(k["x_verdict"]["features"]["messaging"]["status"], "accessible");
  EXPECT_EQ(k["x_verdict"]["features"]["media"]["status"], "accessible");
  EXPECT_FALSE(k["x_verdict"]["features"].contains("calls"));  // stun is recorded, not judged
}

TEST(FacebookMessenger, AnswersOutsideTheNetworksAreDnsBlocking) {
  auto s = facebook_messenger();
  std::map<std::string, std::pair<std::string, std::string>> refused;
  for (const auto& e : s.endpoints)
    if (e.chain != catalog::Chain::Dns) refused[e.host] = {"tcp", "connection_refused"};
  json k = build_test_keys(s, fb_obs(s, refused, "203.0.113.9"), ok_canary());
  for (const char* id : {"stun", "b_api", "b_graph", "edge", "external_cdn", "scontent_cdn", "star"}) {
    EXPECT_EQ(k[std::string("facebook_") + id + "_dns_consistent"], false) << id;
    // OONI connects to consistent addresses only: reachability is unknown.
    EXPECT_TRUE(k[std::string("facebook_") + id + "_reachable"].is_null()) << id;
  }
  EXPECT_EQ(k["facebook_dns_blocking"], true);
  EXPECT_TRUE(k["facebook_tcp_blocking"].is_null());
  EXPECT_EQ(k["x_verdict"]["status"], "blocked");
  EXPECT_EQ(k["x_verdict"]["methods"], json::array({"dns"}));
  EXPECT_EQ(k["x_verdict"]["features"]["media"]["methods"], json::array({"dns"}));
}

TEST(FacebookMessenger, OneNameUnreachable) {
  auto s = facebook_messenger();
  json k = build_test_keys(s, fb_obs(s, {{"edge-mqtt.facebook.com", {"tcp", "generic_timeout_error"}}}), ok_canary());
  EXPECT_EQ(k["facebook_edge_reachable"], false);
  EXPECT_EQ(k["facebook_edge_dns_consistent"], true);
  EXPECT_EQ(k["facebook_b_api_reachable"], true);
  EXPECT_EQ(k["facebook_tcp_blocking"], true);
  EXPECT_EQ(k["facebook_dns_blocking"], false);
  EXPECT_TRUE(k["x_facebook_edge_tls_handshake"].is_null());  // never attempted
  EXPECT_EQ(k["x_facebook_tls_blocking"], false);
  EXPECT_EQ(k["x_verdict"]["features"]["messaging"]["methods"], json::array({"tcp_ip"}));
  EXPECT_EQ(k["x_verdict"]["status"], "partially_blocked");
}

TEST(FacebookMessenger, TlsBlockingThatOoniWouldMiss) {
  auto s = facebook_messenger();
  json k = build_test_keys(s,
                           fb_obs(s, {{"scontent.xx.fbcdn.net", {"tls", "connection_reset"}},
                                      {"external.xx.fbcdn.net", {"tls", "connection_reset"}}}),
                           ok_canary());
  EXPECT_EQ(k["facebook_tcp_blocking"], false);  // all OONI sees is a working TCP connect
  EXPECT_EQ(k["facebook_scontent_cdn_reachable"], true);
  EXPECT_EQ(k["x_facebook_scontent_cdn_tls_handshake"], false);
  EXPECT_EQ(k["x_facebook_star_tls_handshake"], true);
  EXPECT_EQ(k["x_facebook_tls_blocking"], true);
  EXPECT_EQ(k["x_verdict"]["status"], "partially_blocked");
  EXPECT_EQ(k["x_verdict"]["features"]["media"]["status"], "blocked");
  EXPECT_EQ(k["x_verdict"]["features"]["media"]["methods"], json::array({"tls"}));
  EXPECT_EQ(k["x_verdict"]["features"]["messaging"]["status"], "accessible");
}

TEST(FacebookMessenger, LookupFailureIsInconsistent) {
  auto s = facebook_messenger();
  json k = build_test_keys(s, fb_obs(s, {{"b-graph.facebook.com", {"dns", "dns_nxdomain_error"}}}), ok_canary());
  EXPECT_EQ(k["facebook_b_graph_dns_consistent"], false);
  EXPECT_TRUE(k["facebook_b_graph_reachable"].is_null());
  EXPECT_EQ(k["facebook_dns_blocking"], true);
  EXPECT_EQ(k["facebook_tcp_blocking"], false);
}

TEST(FacebookMessenger, NothingMeasuredIsNull) {
  auto s = facebook_messenger();
  json k = build_test_keys(s, engine::ServiceObservations{}, ok_canary());
  for (const char* key : {"facebook_dns_blocking", "facebook_tcp_blocking", "x_facebook_tls_blocking",
                          "facebook_star_dns_consistent", "facebook_star_reachable", "facebook_stun_reachable"})
    EXPECT_TRUE(k[key].is_null()) << key;
}

// --- Telegram (ts-020) ---

catalog::Service telegram() {
  auto r = catalog::load_catalog_file(std::string(VANTAGE_SOURCE_DIR) + "/tests_catalog/telegram.json");
  EXPECT_TRUE(r.errors.empty()) << (r.errors.empty() ? "" : r.errors[0].to_string());
  if (r.catalog.services.empty()) ADD_FAILURE() << "telegram.json did not load";
  return r.catalog.services.empty() ? catalog::Service{} : r.catalog.services[0];
}

// failures: "host:port" (or "host" for every port of it) -> {step, failure}.
engine::ServiceObservations telegram_obs(const catalog::Service& s,
                                         const std::map<std::string, std::pair<std::string, std::string>>& failures = {}) {
  Observed o;
  for (const auto& e : s.endpoints)
    for (int port : e.ports) {
      auto it = failures.find(e.host + ":" + std::to_string(port));
      if (it == failures.end()) it = failures.find(e.host);
      // Telegram Web's answer: inside the catalog's Telegram networks.
      if (it == failures.end()) o.endpoint(e, port, "", "", "149.154.167.99");
      else o.endpoint(e, port, it->second.first, it->second.second, "149.154.167.99");
    }
  return o.obs;
}

const std::vector<std::string> kTelegramDcs = {"149.154.175.50", "149.154.167.51", "95.161.76.100",
                                               "149.154.175.100", "149.154.167.91", "149.154.171.5"};

std::map<std::string, std::pair<std::string, std::string>> every_dc(const std::string& step, const std::string& failure) {
  std::map<std::string, std::pair<std::string, std::string>> m;
  for (const auto& dc : kTelegramDcs) m[dc] = {step, failure};
  return m;
}

// OONI's six addresses, each by address with a plain HTTP POST on 80 and on
// 443 (http://ip/ and http://ip:443/, as OONI's probe sends them), and
// Telegram Web over HTTPS.
TEST(Telegram, CatalogHasOonisDataCentresByAddress) {
  auto s = telegram();
  EXPECT_EQ(s.test_name, "telegram");
  std::map<std::string, std::set<int>> ports;
  for (const auto& e : s.endpoints) {
    if (e.host == "web.telegram.org") {
      EXPECT_EQ(e.chain, catalog::Chain::Https);
      EXPECT_EQ(e.url, "https://web.telegram.org/");
      EXPECT_EQ(e.method, "GET");
      continue;
    }
    EXPECT_TRUE(catalog::is_address_literal(e.host)) << e.host;
    EXPECT_EQ(e.chain, catalog::Chain::Http) << e.host;
    EXPECT_EQ(e.method, "POST") << e.host;
    ASSERT_EQ(e.ports.size(), 1u) << e.host;
    EXPECT_EQ(e.url, e.ports[0] == 80 ? "http://" + e.host + "/" : "http://" + e.host + ":443/");
    ports[e.host].insert(e.ports[0]);
  }
  ASSERT_EQ(ports.size(), kTelegramDcs.size());
  for (const auto& dc : kTelegramDcs) EXPECT_EQ(ports[dc], (std::set<int>{80, 443})) << dc;
}

TEST(Telegram, AllOkMatchesOonisExample) {
  auto s = telegram();
  json k = build_test_keys(s, telegram_obs(s), ok_canary());
  const json example = ooni_example("telegram-0.3.0.json");
  std::set<std::string> theirs, ours;
  for (auto it = example["test_keys"].begin(); it != example["test_keys"].end(); ++it)
    if (it.key().rfind("telegram_", 0) == 0) theirs.insert(it.key());
  for (auto it = k.begin(); it != k.end(); ++it)
    if (it.key().rfind("telegram_", 0) == 0) ours.insert(it.key());
  EXPECT_EQ(ours, theirs);  // exactly OONI's four, none added under its prefix
  ASSERT_EQ(theirs.size(), 4u);
  // The example is an all-ok run: the same values and types.
  for (const auto& key : theirs) EXPECT_EQ(k[key], example["test_keys"][key]) << key;
  EXPECT_EQ(k["x_ooni_spec"], "ts-020 (2022-12-07-001), keys as OONI telegram 0.3.0");
  EXPECT_EQ(k["x_verdict"]["status"], "accessible");
  EXPECT_EQ(k["x_verdict"]["features"]["messaging"]["status"], "accessible");
  EXPECT_EQ(k["x_verdict"]["features"]["web"]["status"], "accessible");
  // No lookup for a data centre: the only name looked up is Telegram Web's.
  for (const auto& q : k["queries"]) EXPECT_EQ(q["hostname"], "web.telegram.org");
}

TEST(Telegram, DataCentresBlackHoledWhileWebWorks) {
  auto s = telegram();
  json k = build_test_keys(s, telegram_obs(s, every_dc("tcp", "generic_timeout_error")), ok_canary());
  EXPECT_EQ(k["telegram_tcp_blocking"], true);
  EXPECT_EQ(k["telegram_http_blocking"], true);
  EXPECT_EQ(k["telegram_web_status"], "ok");
  EXPECT_TRUE(k["telegram_web_failure"].is_null());
  EXPECT_EQ(k["x_verdict"]["status"], "partially_blocked");
  EXPECT_EQ(k["x_verdict"]["features"]["messaging"]["status"], "blocked");
  EXPECT_EQ(k["x_verdict"]["features"]["messaging"]["methods"], json::array({"tcp_ip"}));
  // Every data-centre endpoint was blamed on TCP, none on DNS.
  for (const auto& e : k["x_verdict"]["endpoints"]) {
    if (e["feature"] == "messaging") {
      EXPECT_EQ(e["method"], "tcp_ip") << e.dump();
    }
  }
}

TEST(Telegram, ConnectedButNoPostAnsweredIsHttpBlockingOnly) {
  auto s = telegram();
  json k = build_test_keys(s, telegram_obs(s, every_dc("http", "connection_reset")), ok_canary());
  EXPECT_EQ(k["telegram_tcp_blocking"], false);
  EXPECT_EQ(k["telegram_http_blocking"], true);
  EXPECT_EQ(k["x_verdict"]["features"]["messaging"]["methods"], json::array({"http"}));
}

TEST(Telegram, OneDataCentreAnsweringIsEnough) {
  auto s = telegram();
  auto failures = every_dc("tcp", "generic_timeout_error");
  failures.erase("149.154.167.91");
  failures["149.154.167.91:80"] = {"tcp", "connection_refused"};  // 443 still works
  json k = build_test_keys(s, telegram_obs(s, failures), ok_canary());
  EXPECT_EQ(k["telegram_tcp_blocking"], false);
  EXPECT_EQ(k["telegram_http_blocking"], false);
  EXPECT_EQ(k["x_verdict"]["features"]["messaging"]["status"], "accessible");  // rule any
}

TEST(Telegram, WebBlockedWhileDataCentresWork) {
  auto s = telegram();
  json k = build_test_keys(s, telegram_obs(s, {{"web.telegram.org", {"tls", "connection_reset"}}}), ok_canary());
  EXPECT_EQ(k["telegram_tcp_blocking"], false);
  EXPECT_EQ(k["telegram_http_blocking"], false);
  EXPECT_EQ(k["telegram_web_status"], "blocked");
  EXPECT_EQ(k["telegram_web_failure"], "connection_reset");
  EXPECT_EQ(k["x_verdict"]["status"], "partially_blocked");
  EXPECT_EQ(k["x_verdict"]["features"]["web"]["methods"], json::array({"tls"}));
}

TEST(Telegram, NothingMeasuredIsNull) {
  auto s = telegram();
  json k = build_test_keys(s, engine::ServiceObservations{}, ok_canary());
  for (const char* key : {"telegram_tcp_blocking", "telegram_http_blocking", "telegram_web_status", "telegram_web_failure"})
    EXPECT_TRUE(k[key].is_null()) << key;
}

}  // namespace
}  // namespace vantage::testkeys
