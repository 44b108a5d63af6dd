// Measurement envelope. See measurement.h.
#include "reports/format/measurement.h"

#include "reports/format/address_scrub.h"
#include "reports/format/observations_json.h"

#include <cstdio>
#include <ctime>

namespace vantage::format {

using nlohmann::json;


std::string ooni_time(std::chrono::system_clock::time_point tp) { return utc_time(tp, "%Y-%m-%d %H:%M:%S"); }

std::string local_report_id(const Envelope& e) {
  std::string asn = e.probe_asn.rfind("AS", 0) == 0 ? e.probe_asn.substr(2) : e.probe_asn;
  std::string test;
  for (char c : e.test_name)
    if (c != '_') test += c;
  const std::string identity = std::to_string(e.test_start_time.time_since_epoch().count()) + "|" + e.test_name +
                               "|" + e.probe_cc + "|" + e.probe_asn + "|" + e.software_version;
  std::uint64_t h = 1469598103934665603ull;  // FNV-1a 64
  for (unsigned char c : identity) h = (h ^ c) * 1099511628211ull;
  char digest[17];
  std::snprintf(digest, sizeof digest, "%016llx", static_cast<unsigned long long>(h));
  return utc_time(e.test_start_time, "%Y%m%dT%H%M%SZ") + "_" + test + "_" + e.probe_cc + "_" + asn + "_nlocal_" + digest;
}

json make_measurement(const Envelope& e, json test_keys) {
  return json{
      {"annotations", e.annotations},
      {"data_format_version", "0.2.0"},
      {"extensions", {{"dnst", 0}, {"tcpconnect", 0}, {"tlshandshake", 0}, {"httpt", 0}, {"netevents", 0}}},
      {"input", nullptr},
      {"measurement_start_time", ooni_time(e.measurement_start_time)},
      {"test_start_time", ooni_time(e.test_start_time)},
      {"probe_asn", e.probe_asn},
      {"probe_cc", e.probe_cc},
      {"probe_ip", "127.0.0.1"},
      {"probe_network_name", e.probe_network_name},
      {"resolver_ip", e.resolver_ip},
      {"resolver_asn", e.resolver_asn},
      {"resolver_network_name", e.resolver_network_name},
      {"report_id", e.report_id.empty() ? local_report_id(e) : e.report_id},
      {"software_name", e.software_name},
      {"software_version", e.software_version},
      {"test_name", e.test_name},
      {"test_version", e.test_version},
      {"test_runtime", e.test_runtime},
      {"test_helpers", e.test_helpers},
      {"test_keys", std::move(test_keys)},
  };
}

std::size_t scrub_addresses(json& measurement, const std::vector<std::string>& addresses) {
  std::size_t n = AddressScrubber(addresses).scrub_json(measurement);
  if (measurement.is_object()) measurement["probe_ip"] = "127.0.0.1";
  return n;
}

}  // namespace vantage::format
