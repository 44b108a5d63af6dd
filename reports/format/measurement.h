// The measurement envelope (df-000, data_format_version 0.2.0): the
// top-level keys every Vantage measurement carries, around a test's
// test_keys. Produces JSON; never touches the network or the disk.
#pragma once

#include <chrono>
#include <nlohmann/json.hpp>
#include <string>

#include "reports/format/utc_time.h"

namespace vantage::format {

struct Envelope {
  std::string test_name;
  std::string test_version;
  std::string software_name = "vantage";
  std::string software_version;
  std::string probe_asn = "AS0";
  std::string probe_cc = "ZZ";
  std::string probe_network_name;
  std::string resolver_ip;
  std::string resolver_asn = "AS0";
  std::string resolver_network_name;
  std::string report_id;  // given by the collector; "" until uploaded (see local_report_id)
  std::chrono::system_clock::time_point test_start_time;
  std::chrono::system_clock::time_point measurement_start_time;
  double test_runtime = 0;
  nlohmann::json annotations = nlohmann::json::object();
  nlohmann::json test_helpers = nlohmann::json::object();
};


// "YYYY-MM-DD HH:MM:SS" in UTC, as OONI writes times.
std::string ooni_time(std::chrono::system_clock::time_point tp);

// The report_id a measurement carries until a collector gives it one, never
// empty (OONI's pipeline asserts on an empty report_id): OONI's shape,
// {test_start_time %Y%m%dT%H%M%SZ}_{test name without _}_{CC}_{ASN digits}_nlocal_{16 hex},
// the hex a digest of the run's start, test, location and software version.
// The upload replaces it with the collector's own.
std::string local_report_id(const Envelope& envelope);

// The full measurement object. probe_ip is always "127.0.0.1"; an empty
// envelope report_id becomes local_report_id(envelope).
nlohmann::json make_measurement(const Envelope& envelope, nlohmann::json test_keys);

// Replaces every occurrence of each address in `addresses`, in every
// spelling (address_scrub.h; whole tokens only: "10.0.0.1" does not match
// inside "10.0.0.12"), with "[scrubbed]" in every string of the measurement,
// keys included, and inside its base64 bytes. Returns how many replacements
// were made.
std::size_t scrub_addresses(nlohmann::json& measurement, const std::vector<std::string>& addresses);

}  // namespace vantage::format
