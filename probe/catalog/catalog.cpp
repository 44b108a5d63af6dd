// Catalog loading and validation. See catalog.h.
#include "probe/catalog/catalog.h"

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <nlohmann/json.hpp>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <set>
#include <stdexcept>
#include <sstream>
#include <string_view>

#include "reports/format/ip_address.h"
#include "reports/format/json_schema.h"
#include "reports/format/read_file.h"

namespace vantage::catalog {

extern const std::string_view kCatalogSchema;

namespace {

namespace fs = std::filesystem;
using nlohmann::json;

// Lower-case hex (the schema checked the digits) → bytes.
std::string hex_decode(const std::string& hex) {
  auto digit = [](char c) { return c <= '9' ? c - '0' : c - 'a' + 10; };
  std::string out;
  for (std::size_t i = 0; i + 1 < hex.size(); i += 2) out += static_cast<char>(digit(hex[i]) * 16 + digit(hex[i + 1]));
  return out;
}

// A "text" part: printable ASCII, lines ended by \r\n (as HTTP wants them).
// Returns "" or what is wrong, naming the character's position.
std::string text_part_problem(const std::string& text) {
  for (std::size_t i = 0; i < text.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(text[i]);
    const std::string at = "character " + std::to_string(i);
    if (c == '\r') {
      if (i + 1 >= text.size() || text[i + 1] != '\n') return at + " is a \\r not followed by \\n (lines end with \\r\\n)";
      ++i;
    } else if (c == '\n') {
      return at + " is a \\n without its \\r (lines end with \\r\\n)";
    } else if (c < 0x20 || c > 0x7e) {
      char hex[8];
      std::snprintf(hex, sizeof hex, "0x%02x", c);
      return at + " is " + hex + ": text is printable ASCII and \\r\\n only (use \"hex\" for other bytes)";
    }
  }
  return "";
}

std::string base64(const std::string& bytes) {
  static const char digits[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  for (std::size_t i = 0; i < bytes.size(); i += 3) {
    uint32_t n = static_cast<unsigned char>(bytes[i]) << 16;
    if (i + 1 < bytes.size()) n |= static_cast<unsigned char>(bytes[i + 1]) << 8;
    if (i + 2 < bytes.size()) n |= static_cast<unsigned char>(bytes[i + 2]);
    out += digits[(n >> 18) & 63];
    out += digits[(n >> 12) & 63];
    out += i + 1 < bytes.size() ? digits[(n >> 6) & 63] : '=';
    out += i + 2 < bytes.size() ? digits[n & 63] : '=';
  }
  return out;
}

// RFC 6455 4.1: a Sec-WebSocket-Key is 16 random bytes, base64-encoded.
constexpr std::size_t kWebSocketKeyBytes = 16;
constexpr std::size_t kWebSocketKeyChars = 24;

bool valid_exchange_name(const std::string& name) {
  if (name.empty() || name.size() > 40 || name[0] < 'a' || name[0] > 'z') return false;
  return std::all_of(name.begin(), name.end(), [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_'; });
}

const json& schema() {
  static const json s = json::parse(kCatalogSchema);
  return s;
}

Chain parse_chain(const std::string& s) {
  if (s == "dns") return Chain::Dns;
  if (s == "tls") return Chain::Tls;
  if (s == "http") return Chain::Http;
  if (s == "https") return Chain::Https;
  return Chain::Tcp;
}

std::string url_host(const std::string& url) {
  auto start = url.find("://");
  if (start == std::string::npos) return "";
  start += 3;
  auto end = url.find_first_of(":/?", start);
  return url.substr(start, end == std::string::npos ? std::string::npos : end - start);
}

// The test_keys every measurement carries (probe/testkeys): a feature's
// ooni_keys must not overwrite them.
bool is_reserved_test_key(const std::string& key) {
  static const std::set<std::string> reserved = {
      "queries",    "tcp_connect", "tls_handshakes", "requests",  "network_events", "failure",   "failed_operation",
      "x_endpoints", "x_features", "x_networks",     "x_canary",  "x_control",      "x_capture", "x_verdict",
      "x_app_exchanges"};
  return reserved.count(key) > 0;
}

// Schema-valid JSON → Service, plus the cross-field rules a schema can't say.
void build_service(const std::string& path, const json& j, LoadResult& result) {
  auto error = [&](const std::string& field, const std::string& msg) {
    result.errors.push_back({path, field, msg});
  };
  Service s;
  s.file = path;
  s.name = j["service"];
  s.canary = j.value("kind", "service") == "canary";
  s.test_name = j["test_name"];
  s.test_version = j["test_version"];
  s.description = j.value("description", "");
  s.asns = j["networks"]["asns"].get<std::vector<std::string>>();
  s.prefixes = j["networks"]["prefixes"].get<std::vector<std::string>>();
  s.system_store = j["trust"]["system_store"];
  const auto pins = j["trust"]["pinned_ca_files"];
  for (std::size_t i = 0; i < pins.size(); ++i) {
    fs::path pem = fs::path(path).parent_path() / pins[i].get<std::string>();
    std::string text;
    if (!format::read_file(pem.string(), text).empty()) {
      error("/trust/pinned_ca_files/" + std::to_string(i), "cannot read pinned CA file " + pem.string());
    } else if (text.find("-----BEGIN CERTIFICATE-----") == std::string::npos) {
      error("/trust/pinned_ca_files/" + std::to_string(i), pem.string() + " holds no PEM certificate");
    } else {
      s.pinned_pem += text;
      if (s.pinned_pem.back() != '\n') s.pinned_pem += '\n';
    }
  }
  if (!s.system_store && s.pinned_pem.empty() && pins.empty())
    error("/trust", "system_store is false and no pinned_ca_files are given: no certificate could ever be trusted");
  std::set<std::string> ooni_keys;  // each written by one feature only
  for (auto it = j["features"].begin(); it != j["features"].end(); ++it) {
    Feature f;
    f.name = it.key();
    f.description = it.value().value("description", "");
    f.rule = it.value()["rule"];
    const json keys = it.value().value("ooni_keys", json::object());
    f.ooni_status_key = keys.value("status", "");
    f.ooni_failure_key = keys.value("failure", "");
    for (const char* which : {"status", "failure"}) {
      if (!keys.contains(which)) continue;
      const std::string key = keys[which];
      const std::string at = "/features/" + f.name + "/ooni_keys/" + which;
      if (is_reserved_test_key(key))
        error(at, "\"" + key + "\" is one of the test_keys every measurement has: a feature cannot write it");
      else if (!ooni_keys.insert(key).second)
        error(at, "\"" + key + "\" is already written by another feature of this service");
    }
    s.features.push_back(std::move(f));
  }
  std::set<std::string> feature_names;
  for (const auto& f : s.features) feature_names.insert(f.name);

  std::map<std::string, Exchange> exchanges;
  if (j.contains("exchanges"))
    for (auto it = j["exchanges"].begin(); it != j["exchanges"].end(); ++it) {
      Exchange x;
      x.name = it.key();
      x.description = it.value()["description"];
      x.max_read = it.value().value("max_read", x.max_read);
      std::size_t total = 0;
      const std::string at = "/exchanges/" + x.name + "/send";
      if (!valid_exchange_name(x.name))
        error("/exchanges/" + x.name, "an exchange name is lower-case letters, digits and _ (at most 40), starting with a letter");
      const json& parts = it.value()["send"];
      for (std::size_t i = 0; i < parts.size(); ++i) {
        const std::string part_at = at + "/" + std::to_string(i);
        int kinds = 0;
        for (const char* kind : {"hex", "random", "text", "websocket_key", "generate"}) kinds += parts[i].contains(kind) ? 1 : 0;
        if (kinds != 1) {
          error(part_at, "a part is exactly one of \"hex\", \"random\", \"text\", \"websocket_key\" or \"generate\"");
          continue;
        }
        ExchangePart part;
        if (parts[i].contains("hex")) {
          part.bytes = hex_decode(parts[i]["hex"].get<std::string>());
        } else if (parts[i].contains("text")) {
          part.bytes = parts[i]["text"].get<std::string>();
          if (std::string problem = text_part_problem(part.bytes); !problem.empty()) error(part_at + "/text", problem);
        } else if (parts[i].contains("websocket_key")) {
          if (!parts[i]["websocket_key"].get<bool>()) {
            error(part_at + "/websocket_key", "websocket_key is true or absent: it stands for a fresh Sec-WebSocket-Key");
            continue;
          }
          part.websocket_key = true;
        } else if (parts[i].contains("generate")) {
          if (auto g = parse_generated(parts[i]["generate"].get<std::string>())) {
            part.generate = *g;
          } else {
            error(part_at + "/generate", "unknown generated part \"" + parts[i]["generate"].get<std::string>() +
                                             "\" (known: p256_public_key, unix_time_be32)");
            continue;
          }
        } else {
          part.random = parts[i]["random"].get<std::size_t>();
        }
        total += part.bytes.size() + part.random + (part.websocket_key ? kWebSocketKeyChars : 0) +
                 generated_size(part.generate);
        x.send.push_back(std::move(part));
      }
      if (total > kMaxExchangeBytes)
        error(at, "sends " + std::to_string(total) + " bytes; at most " + std::to_string(kMaxExchangeBytes));
      exchanges[x.name] = std::move(x);
    }

  std::set<std::string> ooni_ids;  // one endpoint each
  const auto& eps = j["endpoints"];
  for (std::size_t i = 0; i < eps.size(); ++i) {
    const json& e = eps[i];
    const std::string at = "/endpoints/" + std::to_string(i);
    Endpoint ep;
    ep.host = e["host"];
    ep.chain = parse_chain(e["chain"]);
    ep.feature = e["feature"];
    ep.url = e.value("url", "");
    ep.method = e.value("method", "GET");
    ep.throughput = e.value("throughput", false);
    ep.judged = e.value("judged", true);
    if (e.contains("alpn")) ep.alpn = e["alpn"].get<std::vector<std::string>>();
    if (e.contains("ports")) ep.ports = e["ports"].get<std::vector<int>>();
    if (e.contains("confirmed") && e["confirmed"].is_string()) ep.confirmed = e["confirmed"].get<std::string>();
    ep.ooni_id = e.value("ooni_id", "");
    if (!ep.ooni_id.empty() && !ooni_ids.insert(ep.ooni_id).second)
      error(at + "/ooni_id", "ooni_id \"" + ep.ooni_id + "\" is already given to another endpoint");
    if (is_address_literal(ep.host)) {
      // Reached by address: there is nothing to look up, and the catalog's
      // own address must be one the Internet routes (a bogon would have the
      // probe connect into the volunteer's own network).
      if (ep.chain == Chain::Dns)
        error(at + "/chain", "host \"" + ep.host + "\" is an address literal: there is no name to look up");
      else if (ip::is_bogon(ep.host))
        error(at + "/host", "address literal \"" + ep.host + "\" is a bogon (private, loopback, reserved, ...)");
    }
    if (!feature_names.count(ep.feature))
      error(at + "/feature", "feature \"" + ep.feature + "\" is not declared in /features");
    if (ep.chain != Chain::Dns && ep.ports.empty())
      error(at + "/ports", std::string("a \"") + chain_name(ep.chain) + "\" endpoint needs ports");
    bool web = ep.chain == Chain::Http || ep.chain == Chain::Https;
    if (web && ep.url.empty()) error(at + "/url", std::string("a \"") + chain_name(ep.chain) + "\" endpoint needs a url");
    if (web && !ep.url.empty()) {
      std::string scheme = ep.chain == Chain::Https ? "https://" : "http://";
      if (ep.url.rfind(scheme, 0) != 0) error(at + "/url", "url must start with " + scheme + " for chain " + chain_name(ep.chain));
      if (url_host(ep.url) != ep.host) error(at + "/url", "url host \"" + url_host(ep.url) + "\" differs from host \"" + ep.host + "\"");
    }
    if (!web && !ep.url.empty()) error(at + "/url", "only http and https endpoints take a url");
    if (e.contains("exchange")) {
      const std::string name = e["exchange"];
      if (auto x = exchanges.find(name); x == exchanges.end())
        error(at + "/exchange", "exchange \"" + name + "\" is not declared in /exchanges");
      else if (ep.chain != Chain::Tcp && ep.chain != Chain::Tls && ep.chain != Chain::Https)
        error(at + "/exchange", std::string("an exchange follows a bare connect or a TLS handshake: only tcp, tls and https "
                                            "endpoints take one, not \"") + chain_name(ep.chain) + "\"");
      else
        ep.exchange = x->second;
    }
    if (ep.throughput && !web) error(at + "/throughput", "throughput is measured on http/https endpoints only");
    s.endpoints.push_back(std::move(ep));
  }
  result.catalog.services.push_back(std::move(s));
}

void load_into(const std::string& path, LoadResult& result) {
  std::string text;
  if (!format::read_file(path, text).empty()) {
    result.errors.push_back({path, "", "cannot read file"});
    return;
  }
  json j = json::parse(text, nullptr, false);
  if (j.is_discarded()) {
    // Re-parse with exceptions only to get the position of the error.
    try {
      json ignored = json::parse(text);
      (void)ignored;
    } catch (const json::parse_error& e) {
      result.errors.push_back({path, "", std::string("not valid JSON: ") + e.what()});
      return;
    }
    result.errors.push_back({path, "", "not valid JSON"});
    return;
  }
  auto errs = format::validate_schema(schema(), j);
  if (!errs.empty()) {
    for (auto& e : errs) result.errors.push_back({path, e.path, e.message});
    return;
  }
  build_service(path, j, result);
}

}  // namespace

std::optional<Generated> parse_generated(const std::string& name) {
  if (name == "p256_public_key") return Generated::P256PublicKey;
  if (name == "unix_time_be32") return Generated::UnixTimeBe32;
  return std::nullopt;
}

std::size_t generated_size(Generated g) {
  switch (g) {
    case Generated::None: return 0;
    case Generated::P256PublicKey: return 65;
    case Generated::UnixTimeBe32: return 4;
  }
  return 0;
}

namespace {

// A fresh P-256 key pair's public point, uncompressed (04 || X || Y); the
// private key is freed with the pair.
std::string fresh_p256_public_key() {
  EVP_PKEY* key = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256");
  std::string point(generated_size(Generated::P256PublicKey), '\0');
  std::size_t length = 0;
  const bool ok = key && EVP_PKEY_get_octet_string_param(key, OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY,
                                                         reinterpret_cast<unsigned char*>(point.data()),
                                                         point.size(), &length) == 1 &&
                  length == point.size() && point[0] == '\x04';
  EVP_PKEY_free(key);
  if (!ok) throw std::runtime_error("generated part p256_public_key: OpenSSL could not make a P-256 key pair");
  return point;
}

std::string unix_time_be32() {
  const auto now = static_cast<uint32_t>(std::time(nullptr));
  std::string out;
  for (int shift = 24; shift >= 0; shift -= 8) out += static_cast<char>((now >> shift) & 0xff);
  return out;
}

}  // namespace

std::string opening_bytes(const Exchange& x) {
  static thread_local std::random_device seed;
  std::string out;
  for (const auto& part : x.send) {
    out += part.bytes;
    for (std::size_t i = 0; i < part.random; ++i) out += static_cast<char>(seed() & 0xff);
    if (part.generate == Generated::P256PublicKey) out += fresh_p256_public_key();
    if (part.generate == Generated::UnixTimeBe32) out += unix_time_be32();
    if (part.websocket_key) {
      std::string key;
      for (std::size_t i = 0; i < kWebSocketKeyBytes; ++i) key += static_cast<char>(seed() & 0xff);
      out += base64(key);
    }
  }
  return out;
}

const char* chain_name(Chain c) {
  switch (c) {
    case Chain::Dns: return "dns";
    case Chain::Tcp: return "tcp";
    case Chain::Tls: return "tls";
    case Chain::Http: return "http";
    case Chain::Https: return "https";
  }
  return "tcp";
}

std::string CatalogError::to_string() const {
  std::string s = file;
  if (!field.empty()) s += ": field " + field;
  return s + ": " + message;
}

bool is_address_literal(const std::string& host) {
  return ip::parse_address(host, ip::Spelling::literal).has_value();
}

const Feature* feature_with_status_key(const Service& s, const std::string& key) {
  for (const auto& f : s.features)
    if (!key.empty() && f.ooni_status_key == key) return &f;
  return nullptr;
}

const Service* Catalog::find(const std::string& name) const {
  for (const auto& s : services)
    if (s.name == name) return &s;
  return nullptr;
}

const Service* Catalog::canary() const {
  for (const auto& s : services)
    if (s.canary) return &s;
  return nullptr;
}

LoadResult load_catalog_file(const std::string& path) {
  LoadResult r;
  load_into(path, r);
  return r;
}

LoadResult load_catalog_dir(const std::string& dir) {
  LoadResult r;
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) {
    r.errors.push_back({dir, "", "not a directory"});
    return r;
  }
  std::vector<std::string> files;
  for (const auto& entry : fs::directory_iterator(dir, ec))
    if (entry.path().extension() == ".json" && entry.path().filename() != "catalog.schema.json")
      files.push_back(entry.path().string());
  std::sort(files.begin(), files.end());
  if (files.empty()) r.errors.push_back({dir, "", "no catalog files (*.json) found"});
  for (const auto& f : files) load_into(f, r);
  std::set<std::string> names;
  int canaries = 0;
  for (const auto& s : r.catalog.services) {
    if (!names.insert(s.name).second) r.errors.push_back({s.file, "/service", "service \"" + s.name + "\" is defined twice"});
    canaries += s.canary;
  }
  if (canaries > 1) r.errors.push_back({dir, "", "more than one canary catalog"});
  std::sort(r.catalog.services.begin(), r.catalog.services.end(),
            [](const Service& a, const Service& b) { return a.name < b.name; });
  return r;
}

std::string default_catalog_dir_for(const std::string& exe) {
  std::error_code ec;
  if (!exe.empty()) {
    // VANTAGE_CATALOG_FROM_BINDIR is the installed catalog relative to the
    // installed binaries ("../share/vantage/tests_catalog").
    const fs::path beside = (fs::path(exe).parent_path() / VANTAGE_CATALOG_FROM_BINDIR).lexically_normal();
    if (fs::is_directory(beside, ec)) return beside.string();
  }
  if (fs::is_directory(VANTAGE_INSTALLED_CATALOG, ec)) return VANTAGE_INSTALLED_CATALOG;
  return std::string(VANTAGE_SOURCE_DIR) + "/tests_catalog";
}

std::string default_catalog_dir() {
  std::error_code ec;
  const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  return default_catalog_dir_for(ec ? std::string() : exe.string());
}

}  // namespace vantage::catalog
