// Service catalogs: what to measure for each service and how to judge it.
// Loads tests_catalog/*.json (or a --catalog directory), validates each file
// against the built-in JSON Schema and a few cross-field rules, and returns
// either a Catalog or errors that name the file, the field and the problem.
// Never throws; never touches the network.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace vantage::catalog {

enum class Chain { Dns, Tcp, Tls, Http, Https };
const char* chain_name(Chain c);

// An application-level exchange (catalog "exchanges"): the app's own
// opening bytes, sent after the connect (or, on a tls/https endpoint, inside
// the TLS session after the handshake), and how much of the reply is read.
//
// A generated part is a value the app makes afresh for every connection and
// that random bytes cannot stand for:
//   P256PublicKey  the public point of a fresh NIST P-256 (prime256v1) key
//                  pair, uncompressed (65 bytes: 04 || X || Y), made by
//                  OpenSSL; the private key is discarded at once
//   UnixTimeBe32   the current Unix time in seconds, 4 bytes big-endian
enum class Generated { None, P256PublicKey, UnixTimeBe32 };
// The catalog's name of a generated part ("p256_public_key", ...); nullopt
// for an unknown name.
std::optional<Generated> parse_generated(const std::string& name);
// How many bytes a generated part is (0 for None).
std::size_t generated_size(Generated g);
struct ExchangePart {
  std::string bytes;       // fixed bytes ("hex", or "text": ASCII with \r\n)
  std::size_t random = 0;  // or this many fresh random bytes
  Generated generate = Generated::None;  // or a value generated per connection
  bool websocket_key = false;  // or a fresh Sec-WebSocket-Key: 16 random bytes in base64 (24 characters)
};
struct Exchange {
  std::string name;
  std::string description;
  std::vector<ExchangePart> send;
  std::size_t max_read = 4096;
};
// The bytes to send on one connection: the fixed parts as they are, each
// random part freshly drawn (as the app draws its ephemeral key), each
// generated part made now. Throws std::runtime_error (naming the part) only
// if OpenSSL cannot make a key pair.
// websocket_key a fresh key (as a WebSocket client draws one per upgrade).
std::string opening_bytes(const Exchange& x);
// The most an exchange may send (the parts summed).
inline constexpr std::size_t kMaxExchangeBytes = 4096;

struct Endpoint {
  // A name, or an address literal (IPv4 dotted quad or IPv6 text): an
  // endpoint reached by address has no DNS step (is_address_literal).
  std::string host;
  std::vector<int> ports;
  Chain chain = Chain::Tcp;
  std::string url;  // http/https chains
  std::string method = "GET";
  std::string feature;
  std::vector<std::string> alpn;
  bool throughput = false;  // measure download throughput (throttling)
  bool judged = true;       // false: recorded, not part of the verdict
  std::optional<std::string> confirmed;  // date last confirmed; empty = unconfirmed
  std::string ooni_id;  // the name's identifier in OONI's keys (facebook_<id>_..., a Signal backend); "" = none
  // Sent after the connect (tcp chains) or inside the TLS session after the
  // handshake (tls and https chains); none = a bare connect / handshake.
  std::optional<Exchange> exchange;
};

struct Feature {
  Feature() = default;
  // {name, description, rule} stays a complete initialization (the OONI keys are optional).
  Feature(std::string name_, std::string description_, std::string rule_, std::string ooni_status_key_ = "",
          std::string ooni_failure_key_ = "")
      : name(std::move(name_)), description(std::move(description_)), rule(std::move(rule_)),
        ooni_status_key(std::move(ooni_status_key_)), ooni_failure_key(std::move(ooni_failure_key_)) {}

  std::string name;
  std::string description;
  std::string rule = "all";  // "any": one working endpoint is enough
  // The OONI-style keys (catalog "ooni_keys") that carry this feature's
  // status in test_keys: `ooni_status_key` is "ok"/"blocked"/null by `rule`,
  // `ooni_failure_key` the first failure; "" = not written. A service whose
  // OONI keys are all of this kind needs no code (probe/testkeys).
  std::string ooni_status_key;
  std::string ooni_failure_key;
};

struct Service {
  std::string file;  // where it was loaded from
  std::string name;
  bool canary = false;
  std::string test_name;
  std::string test_version;
  std::string description;
  std::vector<std::string> asns;
  std::vector<std::string> prefixes;
  bool system_store = true;
  std::string pinned_pem;  // concatenated pinned CA certificates
  std::vector<Feature> features;
  std::vector<Endpoint> endpoints;
};

// True when `host` is an IPv4 or IPv6 address literal: the endpoint is
// reached at that address and nothing is looked up (no DNS query, no DNS
// evidence; its chain starts at TCP).
bool is_address_literal(const std::string& host);

// The feature whose ooni_status_key is `key`, or null.
const Feature* feature_with_status_key(const Service& s, const std::string& key);

struct Catalog {
  std::vector<Service> services;  // sorted by name, canary included
  const Service* find(const std::string& name) const;
  const Service* canary() const;
};

struct CatalogError {
  std::string file;
  std::string field;  // JSON pointer, "" for the whole file
  std::string message;
  std::string to_string() const;
};

struct LoadResult {
  Catalog catalog;
  std::vector<CatalogError> errors;
  bool ok() const { return errors.empty(); }
};

// Loads every *.json in dir except catalog.schema.json.
LoadResult load_catalog_dir(const std::string& dir);
// Loads one service file (for `vantage catalog check FILE`).
LoadResult load_catalog_file(const std::string& path);

// The catalog used when --catalog is not given, the first directory found
// of: the one installed beside the running program (<prefix>/share/vantage/
// tests_catalog for <prefix>/bin/vantage, so an install made with
// `cmake --install --prefix DIR` or moved finds its own), the one installed
// at the configured prefix, the source tree's tests_catalog/.
std::string default_catalog_dir();

// The same for a program at `exe` (an absolute path); "" means unknown.
std::string default_catalog_dir_for(const std::string& exe);

}  // namespace vantage::catalog
