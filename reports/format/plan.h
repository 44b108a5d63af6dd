// The plan and evidence a measurement carries besides OONI's observations:
// test_keys.x_endpoints (what was measured, at which address, in which
// transactions), x_features, x_networks, x_canary and x_control. One type
// each with one serializer: the engine writes them, test-key builders (probe/testkeys) store them, the
// verdict, the service-key builders and the summary read them back through
// the same types, so no field is spelled twice.
//
// The JSON is the stored format (reports/README.md): field names, types and
// which fields are present are those every measurement already on disk has.
// Parsing never throws: a wrong-typed or missing field reads as its default
// (the verdict re-scores stored measurements and must say "inconclusive" on
// malformed ones, not fail).
#pragma once

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "reports/format/control_protocol.h"

namespace vantage::format {

// One x_endpoints entry: a catalog endpoint at one port and one address
// (a DNS-only endpoint, or a name that gave no address, has none).
struct PlannedEndpoint {
  std::string endpoint;  // "host:port", or "host" for a DNS-only endpoint
  std::string host;
  std::string chain;  // dns | tcp | tls | http | https
  std::string feature;
  bool judged = true;       // false: recorded, not part of the verdict
  bool throughput = false;  // its request is a throughput sample
  int64_t dns_transaction_id = -1;      // the system lookup's last attempt; -1 none
  int64_t dns_udp_transaction_id = -1;  // the hold-on UDP query; -1 none
  std::optional<std::string> confirmed;  // catalog: date last confirmed
  std::string url, method;               // web endpoints; "" = not written
  // The application-level exchange run after the connect (the catalog's
  // name, its observations in x_app_exchanges); "" = none, not written.
  std::string exchange;
  std::optional<int64_t> port;           // null for a DNS-only endpoint
  std::optional<std::string> ip;         // null: no address measured
  std::string family;                    // "ipv4" | "ipv6" of ip; "" (written null) without one
  // The chain's final attempt (written for every endpoint but DNS-only ones:
  // null when there was no address) and how many attempts it took.
  std::optional<int64_t> transaction_id;
  std::optional<int64_t> attempts;
  std::string failure;  // "interrupted" when not measured; "" = not written
};

nlohmann::json to_json(const PlannedEndpoint& e);
PlannedEndpoint planned_endpoint_from_json(const nlohmann::json& j);
nlohmann::json to_json(const std::vector<PlannedEndpoint>& endpoints);
// Non-objects are skipped (as before: they were never endpoints).
std::vector<PlannedEndpoint> planned_endpoints_from_json(const nlohmann::json& j);

// One x_features entry.
struct Feature {
  std::string name;
  std::string rule;  // "any" | "all"; anything else is judged as "all"
  std::string description;
  bool judged = true;  // false: none of its endpoints is judged
};

// x_features is an object by name: {"<name>": {"rule","description","judged"}}.
nlohmann::json to_json(const std::vector<Feature>& features);
// In the object's order (by name); non-object values are skipped.
std::vector<Feature> features_from_json(const nlohmann::json& j);

// x_networks: the service's known networks.
struct Networks {
  std::vector<std::string> asns;
  std::vector<std::string> prefixes;
};
nlohmann::json to_json(const Networks& n);
Networks networks_from_json(const nlohmann::json& j);

// x_canary: how the probe's own network did.
struct CanaryEndpoint {
  std::string endpoint;
  std::string status;  // "ok" | "failed"
  std::optional<std::string> failure;
};
struct Canary {
  std::string status;  // "ok" | "failed" | "absent"
  std::optional<double> throughput_kbps;
  std::vector<CanaryEndpoint> endpoints;
};
nlohmann::json to_json(const Canary& c);
// nullopt when `j` is not an object (no canary recorded).
std::optional<Canary> canary_from_json(const nlohmann::json& j);

// x_control: one merged answer per endpoint key, and whether the control
// could be reached.
struct ControlRecord {
  std::string url;
  std::map<std::string, ControlResponse> answers;  // by x_endpoints[].endpoint
  std::optional<std::string> unreachable;          // why it could not be reached
};
nlohmann::json to_json(const ControlRecord& c);
// nullopt when `j` is not an object (no control used: x_control is null).
std::optional<ControlRecord> control_record_from_json(const nlohmann::json& j);

}  // namespace vantage::format
