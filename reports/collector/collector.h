// The collector's protocol logic (OONI bk-003, described in reports/collector/README.md), apart from
// HTTP: what POST /report, POST /report/{id} and POST /report/{id}/close
// answer for a body, and what they store. The server (collector_main.cpp)
// only reads bodies, applies limits and calls these.
//
// Every measurement is checked before it is stored: JSON shape, the envelope
// schema (measurement_schema()), and consistency with its report (test_name,
// probe_cc, probe_asn; a report_id in the body must be the URL's). Resubmitting
// a measurement is idempotent: the key is the SHA-512 of its canonical JSON
// (sorted keys, no spaces) with "report_id" removed, so a probe that reopens a
// report to retry gets the UID it was first given.
//
// Must never: throw or crash on any input (bad input is a 4xx reply with a
// reason); acknowledge a measurement the store has not durably taken.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "reports/collector/store.h"

namespace vantage::collector {

struct CollectorOptions {
  std::string collector_name = "1";  // the "n{name}" part of report ids
  std::string backend_version = "vantage-collector " VANTAGE_VERSION;
};

struct Reply {
  int http_status = 200;
  nlohmann::json body;
};

class Collector {
 public:
  Collector(Store& store, CollectorOptions options) : store_(store), options_(std::move(options)) {}

  Reply open_report(std::string_view body);
  // client_ip: the submitting client's address (client_address.h); a
  // measurement that contains it is refused with 400. "" = not checked.
  Reply submit_measurement(const std::string& report_id, std::string_view body, const std::string& client_ip = "");
  Reply close_report(const std::string& report_id);

  Store& store() { return store_; }

 private:
  Store& store_;
  CollectorOptions options_;
};

// The JSON Schema (draft 2020-12 subset, reports/format/json_schema.h) of the
// measurement envelope the collector accepts, and of the open-report body.
const nlohmann::json& measurement_schema();
const nlohmann::json& open_report_schema();

// Lowercase hex SHA-512.
std::string sha512_hex(std::string_view data);

// The idempotency key of a measurement (see above).
std::string measurement_key(const nlohmann::json& content);

// OONI-shaped identifiers. `random` is appended as given (tests pass a fixed one).
std::string make_report_id(std::int64_t now_seconds, const std::string& test_name, const std::string& cc,
                           const std::string& asn, const std::string& collector_name, const std::string& random);
std::string make_measurement_uid(std::int64_t now_micros, const std::string& cc, const std::string& test_name,
                                 const std::string& key_hex);

// The time part of a measurement's UID: its measurement_start_time with
// micro-seconds taken from its key, so the UID depends on the content only.
std::int64_t uid_time_micros(const std::string& start_time, const std::string& key_hex);

// True when `id` has only the characters report ids are made of.
bool plausible_report_id(const std::string& id);

}  // namespace vantage::collector
