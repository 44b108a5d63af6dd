// Tests for the catalog loader: the real catalogs load and have the shape the
// test-key builders rely on; bad catalogs give errors naming the file, the field (a
// JSON pointer) and the problem. Bad inputs are written to a fresh temporary
// directory per test.
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <cctype>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <openssl/ec.h>
#include <openssl/obj_mac.h>
#include <set>

#include "probe/catalog/catalog.h"

namespace vantage::catalog {
namespace {

// The bytes are an uncompressed point on P-256 (as a server parses a key).
bool on_p256(const std::string& point) {
  EC_GROUP* group = EC_GROUP_new_by_curve_name(NID_X9_62_prime256v1);
  EC_POINT* p = group ? EC_POINT_new(group) : nullptr;
  bool ok = p && point.size() == 65 && point[0] == '\x04' &&
            EC_POINT_oct2point(group, p, reinterpret_cast<const unsigned char*>(point.data()), point.size(), nullptr) == 1 &&
            EC_POINT_is_on_curve(group, p, nullptr) == 1;
  EC_POINT_free(p);
  EC_GROUP_free(group);
  return ok;
}

// A 4-byte big-endian Unix time, within a few seconds of now.
bool is_now_be32(const std::string& bytes) {
  if (bytes.size() != 4) return false;
  long long t = 0;
  for (unsigned char c : bytes) t = t * 256 + c;
  return std::llabs(t - static_cast<long long>(std::time(nullptr))) <= 5;
}

namespace fs = std::filesystem;
using nlohmann::json;

const std::string kCatalogDir = std::string(VANTAGE_SOURCE_DIR) + "/tests_catalog";

// --- the real catalogs ---

TEST(RealCatalog, LoadsWithoutErrors) {
  auto r = load_catalog_dir(kCatalogDir);
  for (const auto& e : r.errors) ADD_FAILURE() << e.to_string();
  ASSERT_TRUE(r.ok());
  std::vector<std::string> names;
  for (const auto& s : r.catalog.services) names.push_back(s.name);
  EXPECT_EQ(names, (std::vector<std::string>{"canary", "facebook_messenger", "signal", "telegram", "wechat", "whatsapp"}));  // sorted
  ASSERT_NE(r.catalog.canary(), nullptr);
  EXPECT_EQ(r.catalog.canary()->name, "canary");
  EXPECT_EQ(r.catalog.find("nope"), nullptr);
  for (const auto& s : r.catalog.services) EXPECT_EQ(s.file, kCatalogDir + "/" + s.name + ".json");
}

TEST(RealCatalog, WhatsApp) {
  auto r = load_catalog_dir(kCatalogDir);
  const Service* s = r.catalog.find("whatsapp");
  ASSERT_NE(s, nullptr);
  EXPECT_FALSE(s->canary);
  EXPECT_EQ(s->test_name, "whatsapp");
  std::set<std::string> chat_hosts;
  const Endpoint* registration = nullptr;
  const Endpoint* web = nullptr;
  const Endpoint* media = nullptr;
  for (const auto& e : s->endpoints) {
    if (e.feature == "messaging") {
      chat_hosts.insert(e.host);
      EXPECT_EQ(e.chain, Chain::Tcp) << e.host;
      EXPECT_EQ(e.ports, (std::vector<int>{443, 5222})) << e.host;
      EXPECT_TRUE(e.judged);
      // The chat servers are sent WhatsApp's opening bytes: 43 of them, the
      // Noise prologue and the framed ClientHello with a fresh 32-byte key.
      EXPECT_TRUE(e.exchange.has_value()) << e.host;
      if (e.exchange) {
        EXPECT_EQ(e.exchange->name, "whatsapp_noise");
        std::string bytes = opening_bytes(*e.exchange);
        ASSERT_EQ(bytes.size(), 43u);
        EXPECT_EQ(bytes.substr(0, 11), std::string("WA\x06\x03\x00\x00\x24\x12\x22\x0a\x20", 11));
        EXPECT_NE(bytes.substr(11), opening_bytes(*e.exchange).substr(11));  // a fresh key each time
      }
    } else if (e.feature == "registration") {
      registration = &e;
    } else if (e.feature == "web") {
      web = &e;
    } else if (e.feature == "media" && e.judged) {
      EXPECT_EQ(media, nullptr) << "one judged media host";
      media = &e;
    }
  }
  // Media separate from messaging: a TLS handshake and a timed download.
  ASSERT_NE(media, nullptr);
  EXPECT_EQ(media->host, "mmg.whatsapp.net");
  EXPECT_EQ(media->chain, Chain::Https);
  EXPECT_TRUE(media->throughput);
  EXPECT_TRUE(media->confirmed.has_value());
  std::set<std::string> expected;
  for (int i = 1; i <= 16; ++i) expected.insert("e" + std::to_string(i) + ".whatsapp.net");
  EXPECT_EQ(chat_hosts, expected);
  ASSERT_NE(registration, nullptr);
  EXPECT_EQ(registration->chain, Chain::Https);
  EXPECT_EQ(registration->url, "https://v.whatsapp.net/v2/register");
  ASSERT_NE(web, nullptr);
  EXPECT_EQ(web->chain, Chain::Https);
  EXPECT_EQ(web->url, "https://web.whatsapp.com/");
  std::map<std::string, std::string> rules;
  for (const auto& f : s->features) rules[f.name] = f.rule;
  EXPECT_EQ(rules, (std::map<std::string, std::string>{{"messaging", "any"}, {"registration", "all"}, {"web", "all"}, {"media", "all"}}));
  EXPECT_FALSE(s->prefixes.empty());
  EXPECT_TRUE(s->pinned_pem.empty());
}

TEST(RealCatalog, Signal) {
  auto r = load_catalog_dir(kCatalogDir);
  const Service* s = r.catalog.find("signal");
  ASSERT_NE(s, nullptr);
  std::set<std::string> backends;
  for (const auto& e : s->endpoints)
    if (e.chain == Chain::Https && !e.throughput) {
      backends.insert(e.host);
      EXPECT_EQ(e.url, "https://" + e.host + "/");
      EXPECT_EQ(e.ports, std::vector<int>{443});
    }
  EXPECT_EQ(backends, (std::set<std::string>{"chat.signal.org", "cdsi.signal.org", "sfu.voip.signal.org",
                                             "storage.signal.org"}));
  // The pinned CA file's content (both of Signal's roots) is loaded.
  EXPECT_TRUE(s->system_store);
  std::size_t certs = 0;
  for (std::size_t pos = 0; (pos = s->pinned_pem.find("-----BEGIN CERTIFICATE-----", pos)) != std::string::npos; ++pos) ++certs;
  EXPECT_EQ(certs, 2u);
  EXPECT_EQ(s->pinned_pem.back(), '\n');
  // uptime.signal.org is looked up but not judged.
  bool uptime = false;
  for (const auto& e : s->endpoints)
    if (e.host == "uptime.signal.org") {
      uptime = true;
      EXPECT_EQ(e.chain, Chain::Dns);
      EXPECT_FALSE(e.judged);
    }
  EXPECT_TRUE(uptime);
}

// chat.signal.org is sent the app's WebSocket upgrade inside TLS: the
// request line, the upgrade headers with a fresh key, the User-Agent, and
// nothing else (no credentials, no frame).
TEST(RealCatalog, SignalWebSocketUpgrade) {
  auto r = load_catalog_dir(kCatalogDir);
  const Service* s = r.catalog.find("signal");
  ASSERT_NE(s, nullptr);
  const Endpoint* chat = nullptr;
  for (const auto& e : s->endpoints)
    if (e.host == "chat.signal.org") chat = &e;
  ASSERT_NE(chat, nullptr);
  EXPECT_EQ(chat->chain, Chain::Https);
  EXPECT_EQ(chat->alpn, std::vector<std::string>{"http/1.1"});
  ASSERT_TRUE(chat->exchange.has_value());
  EXPECT_EQ(chat->exchange->name, "signal_websocket");
  const std::string a = opening_bytes(*chat->exchange), b = opening_bytes(*chat->exchange);
  const std::string head = "GET /v1/websocket/ HTTP/1.1\r\nHost: chat.signal.org\r\nUpgrade: websocket\r\n"
                           "Connection: Upgrade\r\nSec-WebSocket-Key: ";
  const std::string tail = "\r\nSec-WebSocket-Version: 13\r\nUser-Agent: Signal-Android/7.72.2 Android/34\r\n\r\n";
  ASSERT_EQ(a.size(), head.size() + 24 + tail.size());
  EXPECT_EQ(a.substr(0, head.size()), head);
  EXPECT_EQ(a.substr(head.size() + 24), tail);
  EXPECT_NE(a.substr(head.size(), 24), b.substr(head.size(), 24));  // a fresh key each time
  EXPECT_EQ(a.find("Authorization"), std::string::npos);
  for (const auto& e : s->endpoints) {
    if (&e != chat) {
      EXPECT_FALSE(e.exchange.has_value()) << e.host;
    }
  }
}

TEST(RealCatalog, WeChat) {
  auto r = load_catalog_dir(kCatalogDir);
  const Service* s = r.catalog.find("wechat");
  ASSERT_NE(s, nullptr);
  int long_links = 0, dns_services = 0;
  for (const auto& e : s->endpoints) {
    if (e.feature == "messaging") {
      ++long_links;
      EXPECT_EQ(e.chain, Chain::Tcp);
      EXPECT_EQ(e.ports, (std::vector<int>{80, 443, 8080})) << e.host;
    }
    if (e.feature == "short_link") {
      EXPECT_EQ(e.chain, Chain::Http);
      EXPECT_EQ(e.method, "POST");
      EXPECT_EQ(e.ports, std::vector<int>{80});
    }
    if (e.feature == "messaging") {
      // The long links are sent MMTLS's opening record: 226 bytes, a
      // handshake record holding the keyless 1-RTT ECDHE ClientHello.
      ASSERT_TRUE(e.exchange.has_value()) << e.host;
      EXPECT_EQ(e.exchange->name, "wechat_mmtls");
      std::string bytes = opening_bytes(*e.exchange), again = opening_bytes(*e.exchange);
      ASSERT_EQ(bytes.size(), 226u);
      EXPECT_EQ(bytes.substr(0, 15), std::string("\x16\xf1\x04\x00\xdd\x00\x00\x00\xd9\x01\x04\xf1\x01\xc0\x2b", 15));
      EXPECT_NE(bytes.substr(15, 32), again.substr(15, 32));  // a fresh client random
      EXPECT_TRUE(is_now_be32(bytes.substr(47, 4)));           // the client's timestamp
      EXPECT_EQ(bytes.substr(51, 22), std::string("\x00\x00\x00\xab\x01\x00\x00\x00\xa6\x00\x10\x02"
                                                  "\x00\x00\x00\x47\x00\x00\x00\x01\x00\x41", 22));
      const std::string key1 = bytes.substr(73, 65), key2 = bytes.substr(148, 65);
      EXPECT_TRUE(on_p256(key1));
      EXPECT_TRUE(on_p256(key2));
      EXPECT_NE(key1, key2);
      EXPECT_NE(key1, again.substr(73, 65));  // fresh key pairs on every connection
      EXPECT_EQ(bytes.substr(138, 10), std::string("\x00\x00\x00\x47\x00\x00\x00\x02\x00\x41", 10));
      EXPECT_EQ(bytes.substr(213), std::string("\x00\x00\x00\x00\x02\x00\x00\x00\x03\x00\x00\x00\x04", 13));
    }
    if (e.feature == "dns_service") {
      // The HTTP-DNS service is asked as the app asks it, without the
      // account's query string; its lookup is the chain's DNS step.
      ++dns_services;
      EXPECT_EQ(e.chain, Chain::Http) << e.host;
      EXPECT_EQ(e.method, "GET");
      EXPECT_EQ(e.ports, std::vector<int>{80});
      EXPECT_EQ(e.url, "http://" + e.host + "/cgi-bin/micromsg-bin/newgetdns");
    }
    // Names come from third-party research: every endpoint is unconfirmed.
    EXPECT_FALSE(e.confirmed.has_value()) << e.host;
  }
  EXPECT_GE(long_links, 1);
  EXPECT_EQ(dns_services, 2);
}

// Telegram's data centres are reached by address: every one an IPv4
// literal, none looked up, each dated in its note (the list goes stale).
TEST(RealCatalog, Telegram) {
  auto r = load_catalog_dir(kCatalogDir);
  const Service* s = r.catalog.find("telegram");
  ASSERT_NE(s, nullptr);
  int dcs = 0;
  for (const auto& e : s->endpoints) {
    if (e.feature != "messaging") continue;
    ++dcs;
    EXPECT_TRUE(is_address_literal(e.host)) << e.host;
    EXPECT_EQ(e.chain, Chain::Http) << e.host;
    EXPECT_EQ(e.method, "POST") << e.host;
  }
  EXPECT_EQ(dcs, 12);  // six addresses, ports 80 and 443 each
}

TEST(Catalog, AddressLiterals) {
  EXPECT_TRUE(is_address_literal("149.154.175.50"));
  EXPECT_TRUE(is_address_literal("2001:b28:f23d:f001::a"));
  EXPECT_FALSE(is_address_literal("web.telegram.org"));
  EXPECT_FALSE(is_address_literal("149.154.175.50.example"));
  EXPECT_FALSE(is_address_literal("1.2.3"));
  EXPECT_FALSE(is_address_literal(""));
}

TEST(RealCatalog, SingleFileLoad) {
  auto r = load_catalog_file(kCatalogDir + "/signal.json");
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r.catalog.services.size(), 1u);
  EXPECT_EQ(r.catalog.services[0].name, "signal");
  EXPECT_FALSE(r.catalog.services[0].pinned_pem.empty());
}

TEST(RealCatalog, DefaultDirExists) {
  EXPECT_TRUE(fs::is_directory(default_catalog_dir()));
}

// --- bad input ---

// A fresh directory under the system's temp dir, removed at the end.
class TempDir {
 public:
  TempDir() {
    static std::atomic<int> counter{0};
    path_ = fs::temp_directory_path() /
            ("vantage_catalog_test_" + std::to_string(getpid()) + "_" + std::to_string(counter++));
    fs::remove_all(path_);
    fs::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  std::string write(const std::string& name, const std::string& text) const {
    std::ofstream(path_ / name, std::ios::binary) << text;
    return (path_ / name).string();
  }
  std::string path() const { return path_.string(); }

 private:
  fs::path path_;
};

// An install under any prefix finds its own catalog beside its binary, not
// the configured prefix's or the source tree's.
TEST(DefaultCatalogDir, FindsTheCatalogInstalledBesideTheBinary) {
  TempDir prefix;
  fs::create_directories(fs::path(prefix.path()) / "bin");
  const std::string exe = prefix.write("bin/vantage", "");
  const std::string other = default_catalog_dir_for(exe);
  EXPECT_NE(other.rfind(prefix.path(), 0), 0u) << other;  // nothing installed there yet
  const fs::path installed = fs::path(prefix.path()) / "share/vantage/tests_catalog";
  fs::create_directories(installed);
  EXPECT_EQ(default_catalog_dir_for(exe), installed.string());
  EXPECT_EQ(default_catalog_dir_for(""), other);
}

// A small valid service to break one field at a time.
json valid_service(const std::string& name = "demo") {
  return json::parse(R"({
    "service": ")" + name + R"(",
    "test_name": "demo",
    "test_version": "0.1.0",
    "networks": {"asns": ["AS64500"], "prefixes": ["198.18.0.0/15"]},
    "trust": {"system_store": true, "pinned_ca_files": []},
    "features": {"chat": {"rule": "any"}, "web": {"rule": "all"}},
    "endpoints": [
      {"host": "chat.demo.test", "ports": [443, 5222], "chain": "tcp", "feature": "chat"},
      {"host": "www.demo.test", "ports": [443], "chain": "https", "url": "https://www.demo.test/", "feature": "web"}
    ]})");
}

// Loads one file holding `j` and expects exactly one error at `field`
// whose message contains `needle`.
void expect_one_error(const json& j, const std::string& field, const std::string& needle) {
  TempDir dir;
  std::string path = dir.write("demo.json", j.dump(2));
  auto r = load_catalog_file(path);
  ASSERT_EQ(r.errors.size(), 1u) << [&] {
    std::string s;
    for (const auto& e : r.errors) s += e.to_string() + "\n";
    return s;
  }();
  EXPECT_EQ(r.errors[0].file, path);
  EXPECT_EQ(r.errors[0].field, field);
  EXPECT_NE(r.errors[0].message.find(needle), std::string::npos) << r.errors[0].message;
  // to_string names all three.
  std::string text = r.errors[0].to_string();
  EXPECT_NE(text.find(path), std::string::npos);
  if (!field.empty()) {
    EXPECT_NE(text.find(field), std::string::npos);
  }
  EXPECT_NE(text.find(r.errors[0].message), std::string::npos);
}

TEST(BadCatalog, ValidBaselineLoads) {
  TempDir dir;
  dir.write("demo.json", valid_service().dump());
  auto r = load_catalog_dir(dir.path());
  for (const auto& e : r.errors) ADD_FAILURE() << e.to_string();
  ASSERT_EQ(r.catalog.services.size(), 1u);
  const Service& s = r.catalog.services[0];
  EXPECT_EQ(s.endpoints.size(), 2u);
  EXPECT_EQ(s.endpoints[1].chain, Chain::Https);
  EXPECT_EQ(s.endpoints[1].method, "GET");
  EXPECT_EQ(s.prefixes, std::vector<std::string>{"198.18.0.0/15"});
  EXPECT_EQ(r.catalog.canary(), nullptr);
}

TEST(BadCatalog, InvalidJsonReportsPosition) {
  TempDir dir;
  std::string path = dir.write("demo.json", "{\n  \"service\": \"demo\",\n  \"test_name\" \"x\"\n}\n");
  auto r = load_catalog_file(path);
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_EQ(r.errors[0].file, path);
  EXPECT_EQ(r.errors[0].field, "");
  EXPECT_NE(r.errors[0].message.find("not valid JSON"), std::string::npos);
  EXPECT_NE(r.errors[0].message.find("line 3"), std::string::npos) << r.errors[0].message;
  EXPECT_TRUE(r.catalog.services.empty());
}

TEST(BadCatalog, EmptyFile) {
  TempDir dir;
  auto r = load_catalog_file(dir.write("demo.json", ""));
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_NE(r.errors[0].message.find("not valid JSON"), std::string::npos);
}

TEST(BadCatalog, MissingFile) {
  TempDir dir;
  auto r = load_catalog_file(dir.path() + "/absent.json");
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_EQ(r.errors[0].file, dir.path() + "/absent.json");
  EXPECT_NE(r.errors[0].message.find("cannot read"), std::string::npos);
}

TEST(BadCatalog, WrongType) {
  json j = valid_service();
  j["endpoints"][1]["ports"][0] = "443";
  expect_one_error(j, "/endpoints/1/ports/0", "expected integer");
  j = valid_service();
  j["trust"]["system_store"] = "yes";
  expect_one_error(j, "/trust/system_store", "expected boolean");
  j = valid_service();
  j["endpoints"] = json::object();
  expect_one_error(j, "/endpoints", "expected array");
}

TEST(BadCatalog, OutOfRangeAndPattern) {
  json j = valid_service();
  j["endpoints"][0]["ports"][1] = 70000;
  expect_one_error(j, "/endpoints/0/ports/1", "<= 65535");
  j = valid_service();
  j["endpoints"][0]["ports"] = {443, 443};
  expect_one_error(j, "/endpoints/0/ports", "duplicate");
  j = valid_service();
  j["networks"]["asns"][0] = "64500";
  expect_one_error(j, "/networks/asns/0", "pattern");
  j = valid_service();
  j["endpoints"][0]["confirmed"] = "2026-02-30x";
  expect_one_error(j, "/endpoints/0/confirmed", "date");
}

TEST(BadCatalog, UnknownField) {
  json j = valid_service();
  j["endpoints"][0]["prot"] = 443;
  expect_one_error(j, "/endpoints/0/prot", "unknown field");
  j = valid_service();
  j["extra"] = true;
  expect_one_error(j, "/extra", "unknown field");
}

TEST(BadCatalog, MissingRequiredField) {
  json j = valid_service();
  j.erase("test_version");
  expect_one_error(j, "", "missing required field \"test_version\"");
  j = valid_service();
  j["endpoints"][1].erase("feature");
  expect_one_error(j, "/endpoints/1", "missing required field \"feature\"");
}

TEST(BadCatalog, UndeclaredFeature) {
  json j = valid_service();
  j["endpoints"][1]["feature"] = "webb";
  expect_one_error(j, "/endpoints/1/feature", "\"webb\" is not declared");
}

TEST(Catalog, FeatureOoniKeysAreRead) {
  json j = valid_service();
  j["features"]["chat"]["ooni_keys"] = {{"status", "demo_chat_status"}, {"failure", "demo_chat_failure"}};
  j["features"]["web"]["ooni_keys"] = {{"status", "demo_web_status"}};
  TempDir dir;
  auto r = load_catalog_file(dir.write("demo.json", j.dump()));
  ASSERT_TRUE(r.ok()) << r.errors[0].to_string();
  const Service& s = r.catalog.services[0];
  ASSERT_EQ(s.features.size(), 2u);
  EXPECT_EQ(s.features[0].name, "chat");
  EXPECT_EQ(s.features[0].ooni_status_key, "demo_chat_status");
  EXPECT_EQ(s.features[0].ooni_failure_key, "demo_chat_failure");
  EXPECT_EQ(s.features[1].ooni_status_key, "demo_web_status");
  EXPECT_EQ(s.features[1].ooni_failure_key, "");
  ASSERT_NE(feature_with_status_key(s, "demo_web_status"), nullptr);
  EXPECT_EQ(feature_with_status_key(s, "demo_web_status")->name, "web");
  EXPECT_EQ(feature_with_status_key(s, "demo_web_failure"), nullptr);
  EXPECT_EQ(feature_with_status_key(s, ""), nullptr);
}

TEST(BadCatalog, OoniKeyWrittenByTwoFeatures) {
  json j = valid_service();
  j["features"]["chat"]["ooni_keys"] = {{"status", "demo_status"}};
  j["features"]["web"]["ooni_keys"] = {{"failure", "demo_status"}};
  expect_one_error(j, "/features/web/ooni_keys/failure", "already written by another feature");
}

TEST(BadCatalog, OoniKeyOverwritingAGenericKey) {
  json j = valid_service();
  j["features"]["web"]["ooni_keys"] = {{"status", "x_verdict"}};
  expect_one_error(j, "/features/web/ooni_keys/status", "every measurement has");
}

TEST(BadCatalog, OoniKeyBadName) {
  json j = valid_service();
  j["features"]["web"]["ooni_keys"] = {{"status", "Web Status"}};
  expect_one_error(j, "/features/web/ooni_keys/status", "does not match pattern");
  j["features"]["web"]["ooni_keys"] = {{"state", "web_status"}};
  expect_one_error(j, "/features/web/ooni_keys/state", "unknown field \"state\"");
}

TEST(BadCatalog, OoniIdGivenTwice) {
  json j = valid_service();
  j["endpoints"][0]["ooni_id"] = "demo";
  j["endpoints"][1]["ooni_id"] = "demo";
  expect_one_error(j, "/endpoints/1/ooni_id", "already given to another endpoint");
  j["endpoints"][1]["ooni_id"] = "Demo";
  expect_one_error(j, "/endpoints/1/ooni_id", "does not match pattern");
}

TEST(BadCatalog, HttpsEndpointWithoutUrl) {
  json j = valid_service();
  j["endpoints"][1].erase("url");
  expect_one_error(j, "/endpoints/1/url", "needs a url");
}

TEST(BadCatalog, UrlHostDiffersFromHost) {
  json j = valid_service();
  j["endpoints"][1]["url"] = "https://evil.demo.test/";
  expect_one_error(j, "/endpoints/1/url", "differs from host");
  j = valid_service();
  j["endpoints"][1]["url"] = "https://www.demo.test:8443/x";
  EXPECT_NO_FATAL_FAILURE({
    TempDir dir;
    EXPECT_TRUE(load_catalog_file(dir.write("demo.json", j.dump())).ok());
  });
}

TEST(BadCatalog, UrlSchemeMustMatchChain) {
  json j = valid_service();
  j["endpoints"][1]["url"] = "http://www.demo.test/";
  expect_one_error(j, "/endpoints/1/url", "https://");
}

TEST(BadCatalog, UrlOnTcpEndpointAndThroughputOnTcp) {
  json j = valid_service();
  j["endpoints"][0]["url"] = "https://chat.demo.test/";
  expect_one_error(j, "/endpoints/0/url", "only http and https");
  j = valid_service();
  j["endpoints"][0]["throughput"] = true;
  expect_one_error(j, "/endpoints/0/throughput", "http/https endpoints only");
}

json with_exchange(json j) {
  j["exchanges"] = {{"demo_hello", {{"description", "the demo app's first flight"},
                                    {"send", json::array({{{"hex", "4445"}}, {{"random", 4}}})},
                                    {"max_read", 64}}}};
  j["endpoints"][0]["exchange"] = "demo_hello";
  return j;
}

TEST(Catalog, ExchangeIsReadIntoItsEndpoint) {
  TempDir dir;
  auto r = load_catalog_file(dir.write("demo.json", with_exchange(valid_service()).dump()));
  for (const auto& e : r.errors) ADD_FAILURE() << e.to_string();
  ASSERT_TRUE(r.ok());
  const Endpoint& e = r.catalog.services.at(0).endpoints.at(0);
  ASSERT_TRUE(e.exchange.has_value());
  EXPECT_EQ(e.exchange->max_read, 64u);
  ASSERT_EQ(e.exchange->send.size(), 2u);
  EXPECT_EQ(e.exchange->send[0].bytes, "DE");
  EXPECT_EQ(e.exchange->send[1].random, 4u);
  std::string bytes = opening_bytes(*e.exchange);
  EXPECT_EQ(bytes.size(), 6u);
  EXPECT_EQ(bytes.substr(0, 2), "DE");
  EXPECT_FALSE(r.catalog.services[0].endpoints[1].exchange.has_value());
}

TEST(Catalog, ExchangeGeneratedPartsAreMadeForEveryConnection) {
  json j = with_exchange(valid_service());
  j["exchanges"]["demo_hello"]["send"] =
      json::array({{{"hex", "16f104"}}, {{"generate", "p256_public_key"}}, {{"generate", "unix_time_be32"}}});
  TempDir dir;
  auto r = load_catalog_file(dir.write("demo.json", j.dump()));
  for (const auto& e : r.errors) ADD_FAILURE() << e.to_string();
  ASSERT_TRUE(r.ok());
  const Exchange& x = *r.catalog.services.at(0).endpoints.at(0).exchange;
  ASSERT_EQ(x.send.size(), 3u);
  EXPECT_EQ(x.send[1].generate, Generated::P256PublicKey);
  EXPECT_EQ(x.send[2].generate, Generated::UnixTimeBe32);
  EXPECT_EQ(parse_generated("unix_time_be32"), Generated::UnixTimeBe32);
  EXPECT_FALSE(parse_generated("p384_public_key").has_value());
  std::string a = opening_bytes(x), b = opening_bytes(x);
  ASSERT_EQ(a.size(), 3u + 65 + 4);
  EXPECT_EQ(a.substr(0, 3), "\x16\xf1\x04");
  EXPECT_TRUE(on_p256(a.substr(3, 65)));
  EXPECT_TRUE(on_p256(b.substr(3, 65)));
  EXPECT_NE(a.substr(3, 65), b.substr(3, 65));
  EXPECT_TRUE(is_now_be32(a.substr(68)));
}

TEST(BadCatalog, ExchangeGeneratedPartUnknownOrMixed) {
  json j = with_exchange(valid_service());
  j["exchanges"]["demo_hello"]["send"][0] = {{"generate", "p384_public_key"}};
  expect_one_error(j, "/exchanges/demo_hello/send/0/generate", "p256_public_key");
  j = with_exchange(valid_service());
  j["exchanges"]["demo_hello"]["send"][0] = {{"generate", 65}};
  expect_one_error(j, "/exchanges/demo_hello/send/0/generate", "");
  j = with_exchange(valid_service());
  j["exchanges"]["demo_hello"]["send"][0] = {{"hex", "41"}, {"generate", "unix_time_be32"}};  // both
  expect_one_error(j, "/exchanges/demo_hello/send/0", "exactly one");
  // Generated parts count towards the limit: 4 x 1024 random + a 65-byte key.
  j = with_exchange(valid_service());
  j["exchanges"]["demo_hello"]["send"] = json::array({{{"random", 1024}}, {{"random", 1024}}, {{"random", 1024}},
                                                      {{"random", 1024}}, {{"generate", "p256_public_key"}}});
  expect_one_error(j, "/exchanges/demo_hello/send", "sends 4161 bytes; at most 4096");
}

TEST(BadCatalog, ExchangeUndeclaredOnAWrongChainOrBadlyFormed) {
  json j = with_exchange(valid_service());
  j["endpoints"][0]["exchange"] = "nope";
  expect_one_error(j, "/endpoints/0/exchange", "not declared in /exchanges");
  j = with_exchange(valid_service());
  j["endpoints"][1]["chain"] = "http";  // an http endpoint: curl makes the only connection
  j["endpoints"][1]["url"] = "http://www.demo.test/";
  j["endpoints"][1]["exchange"] = "demo_hello";
  expect_one_error(j, "/endpoints/1/exchange", "only tcp, tls and https endpoints take one, not \"http\"");
  j = with_exchange(valid_service());
  j["exchanges"]["demo_hello"]["send"][0] = {{"hex", "ABC"}};  // odd, upper case
  expect_one_error(j, "/exchanges/demo_hello/send/0/hex", "");
  j = with_exchange(valid_service());
  j["exchanges"]["demo_hello"]["send"][0] = {{"hex", "41"}, {"random", 2}};  // both
  expect_one_error(j, "/exchanges/demo_hello/send/0", "");
  j = with_exchange(valid_service());
  j["exchanges"]["demo_hello"]["send"] = json::array({{{"random", 1024}}, {{"random", 1024}}, {{"random", 1024}},
                                                      {{"random", 1024}}, {{"random", 1}}});
  expect_one_error(j, "/exchanges/demo_hello/send", "at most 4096");
  j = with_exchange(valid_service());
  j["exchanges"]["Bad-Name"] = j["exchanges"]["demo_hello"];
  expect_one_error(j, "/exchanges/Bad-Name", "lower-case");
}

// Text parts are sent as they are; a websocket_key part is a fresh 24-character
// base64 key (16 random bytes); a tls or https endpoint takes an exchange
// (sent inside the TLS session).
TEST(Catalog, TextAndWebSocketKeyPartsOnATlsEndpoint) {
  json j = valid_service();
  j["exchanges"] = {{"demo_upgrade", {{"description", "the demo app's upgrade"},
                                      {"send", json::array({{{"text", "GET / HTTP/1.1\r\nKey: "}},
                                                            {{"websocket_key", true}},
                                                            {{"text", "\r\n\r\n"}}})}}}};
  j["endpoints"][1]["exchange"] = "demo_upgrade";  // the https endpoint
  TempDir dir;
  auto r = load_catalog_file(dir.write("demo.json", j.dump()));
  for (const auto& e : r.errors) ADD_FAILURE() << e.to_string();
  ASSERT_TRUE(r.ok());
  const Endpoint& e = r.catalog.services.at(0).endpoints.at(1);
  ASSERT_TRUE(e.exchange.has_value());
  ASSERT_EQ(e.exchange->send.size(), 3u);
  EXPECT_TRUE(e.exchange->send[1].websocket_key);
  const std::string bytes = opening_bytes(*e.exchange);
  const std::string head = "GET / HTTP/1.1\r\nKey: ";
  ASSERT_EQ(bytes.size(), head.size() + 24 + 4);
  EXPECT_EQ(bytes.substr(0, head.size()), head);
  EXPECT_EQ(bytes.substr(head.size() + 24), "\r\n\r\n");
  const std::string key = bytes.substr(head.size(), 24);
  EXPECT_EQ(key.substr(22), "==");  // 16 bytes: 22 digits and two pads
  for (std::size_t i = 0; i < 22; ++i)
    EXPECT_TRUE(std::isalnum(static_cast<unsigned char>(key[i])) || key[i] == '+' || key[i] == '/') << key;
  std::set<std::string> keys;
  for (int i = 0; i < 20; ++i) keys.insert(opening_bytes(*e.exchange).substr(head.size(), 24));
  EXPECT_EQ(keys.size(), 20u);  // fresh each time
}

TEST(BadCatalog, TextAndWebSocketKeyPartsBadlyFormed) {
  auto with_part = [](json part) {
    json j = with_exchange(valid_service());
    j["exchanges"]["demo_hello"]["send"][0] = std::move(part);
    return j;
  };
  expect_one_error(with_part({{"text", "GET / HTTP/1.1\n"}}), "/exchanges/demo_hello/send/0/text",
                   "character 14 is a \\n without its \\r");
  expect_one_error(with_part({{"text", "GET /\r"}}), "/exchanges/demo_hello/send/0/text",
                   "character 5 is a \\r not followed by \\n");
  expect_one_error(with_part({{"text", "A\tB"}}), "/exchanges/demo_hello/send/0/text",
                   "character 1 is 0x09: text is printable ASCII");
  expect_one_error(with_part({{"text", "caf\u00e9"}}), "/exchanges/demo_hello/send/0/text", "character 3 is 0xc3");
  expect_one_error(with_part({{"text", ""}}), "/exchanges/demo_hello/send/0/text", "");
  expect_one_error(with_part({{"websocket_key", false}}), "/exchanges/demo_hello/send/0/websocket_key",
                   "fresh Sec-WebSocket-Key");
  expect_one_error(with_part({{"websocket_key", 16}}), "/exchanges/demo_hello/send/0/websocket_key", "expected boolean");
  expect_one_error(with_part({{"text", "A"}, {"websocket_key", true}}), "/exchanges/demo_hello/send/0", "");
}

TEST(BadCatalog, AddressLiteralWithDnsChain) {
  json j = valid_service();
  j["endpoints"][0] = {{"host", "198.18.2.7"}, {"chain", "dns"}, {"feature", "chat"}};
  expect_one_error(j, "/endpoints/0/chain", "address literal");
}

TEST(BadCatalog, BogonAddressLiteral) {
  json j = valid_service();
  j["endpoints"][0]["host"] = "10.1.2.3";
  expect_one_error(j, "/endpoints/0/host", "bogon");
  j["endpoints"][0]["host"] = "198.18.2.7";  // the lab's benchmarking range is no bogon
  TempDir dir;
  EXPECT_TRUE(load_catalog_file(dir.write("demo.json", j.dump())).ok());
}

TEST(BadCatalog, TcpEndpointWithoutPorts) {
  json j = valid_service();
  j["endpoints"][0].erase("ports");
  expect_one_error(j, "/endpoints/0/ports", "needs ports");
}

TEST(BadCatalog, MissingPinnedCaFile) {
  json j = valid_service();
  j["trust"]["pinned_ca_files"] = {"missing-ca.pem"};
  expect_one_error(j, "/trust/pinned_ca_files/0", "missing-ca.pem");
}

TEST(BadCatalog, PinnedFileIsNotPem) {
  TempDir dir;
  dir.write("junk.pem", "this is not a certificate\n");
  json j = valid_service();
  j["trust"]["pinned_ca_files"] = {"junk.pem"};
  std::string path = dir.write("demo.json", j.dump());
  auto r = load_catalog_file(path);
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_EQ(r.errors[0].field, "/trust/pinned_ca_files/0");
  EXPECT_NE(r.errors[0].message.find("junk.pem"), std::string::npos);
  EXPECT_NE(r.errors[0].message.find("no PEM certificate"), std::string::npos);
}

TEST(BadCatalog, PinnedFileIsLoadedRelativeToTheCatalog) {
  TempDir dir;
  fs::copy_file(kCatalogDir + "/signal-ca.pem", dir.path() + "/ca.pem");
  json j = valid_service();
  j["trust"] = {{"system_store", false}, {"pinned_ca_files", {"ca.pem"}}};
  auto r = load_catalog_file(dir.write("demo.json", j.dump()));
  ASSERT_TRUE(r.ok());
  EXPECT_NE(r.catalog.services[0].pinned_pem.find("BEGIN CERTIFICATE"), std::string::npos);
  EXPECT_FALSE(r.catalog.services[0].system_store);
}

TEST(BadCatalog, PinnedPathCannotLeaveTheDirectory) {
  json j = valid_service();
  j["trust"]["pinned_ca_files"] = {"../etc/ssl/ca.pem"};
  expect_one_error(j, "/trust/pinned_ca_files/0", "pattern");
}

TEST(BadCatalog, NothingTrusted) {
  json j = valid_service();
  j["trust"]["system_store"] = false;
  expect_one_error(j, "/trust", "no certificate could ever be trusted");
}

TEST(BadCatalog, DuplicateService) {
  TempDir dir;
  dir.write("a.json", valid_service("demo").dump());
  std::string second = dir.write("b.json", valid_service("demo").dump());
  auto r = load_catalog_dir(dir.path());
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_EQ(r.errors[0].file, second);
  EXPECT_EQ(r.errors[0].field, "/service");
  EXPECT_NE(r.errors[0].message.find("defined twice"), std::string::npos);
}

TEST(BadCatalog, TwoCanaries) {
  TempDir dir;
  json a = valid_service("one"), b = valid_service("two");
  a["kind"] = b["kind"] = "canary";
  dir.write("a.json", a.dump());
  dir.write("b.json", b.dump());
  auto r = load_catalog_dir(dir.path());
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_NE(r.errors[0].message.find("more than one canary"), std::string::npos);
}

TEST(BadCatalog, ErrorsFromEveryFileAreReported) {
  TempDir dir;
  json bad = valid_service("bad");
  bad["endpoints"][0]["feature"] = "nope";
  std::string bad_path = dir.write("bad.json", bad.dump());
  std::string broken_path = dir.write("broken.json", "[");
  dir.write("good.json", valid_service("good").dump());
  dir.write("notes.txt", "ignored");
  auto r = load_catalog_dir(dir.path());
  ASSERT_EQ(r.errors.size(), 2u);
  EXPECT_EQ(r.errors[0].file, bad_path);
  EXPECT_EQ(r.errors[1].file, broken_path);
  EXPECT_NE(r.catalog.find("good"), nullptr);
}

TEST(BadCatalog, SchemaFileIsSkipped) {
  TempDir dir;
  fs::copy_file(kCatalogDir + "/catalog.schema.json", dir.path() + "/catalog.schema.json");
  dir.write("demo.json", valid_service().dump());
  auto r = load_catalog_dir(dir.path());
  EXPECT_TRUE(r.ok());
  EXPECT_EQ(r.catalog.services.size(), 1u);
}

TEST(BadCatalog, EmptyDirectory) {
  TempDir dir;
  auto r = load_catalog_dir(dir.path());
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_EQ(r.errors[0].file, dir.path());
  EXPECT_NE(r.errors[0].message.find("no catalog files"), std::string::npos);
}

TEST(BadCatalog, NotADirectory) {
  TempDir dir;
  std::string file = dir.write("demo.json", valid_service().dump());
  auto r = load_catalog_dir(file);
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_EQ(r.errors[0].file, file);
  EXPECT_NE(r.errors[0].message.find("not a directory"), std::string::npos);
  r = load_catalog_dir(dir.path() + "/does-not-exist");
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_NE(r.errors[0].message.find("not a directory"), std::string::npos);
}

}  // namespace
}  // namespace vantage::catalog
