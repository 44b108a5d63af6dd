// Measurement envelope. See measurement.h.
#include "reports/format/measurement.h"

#include "reports/format/observations_json.h"

#include <cstdio>
#include <ctime>

namespace vantage::format {

using nlohmann::json;

std::string utc_time(std::chrono::system_clock::time_point tp, const char* strftime_format) {
  std::time_t t = std::chrono::system_clock::to_time_t(tp);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[64];
  std::strftime(buf, sizeof buf, strftime_format, &tm);
  return buf;
}

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
      {"resolver_network_name", ""},
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

namespace {

bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_hex(char c) { return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }

// Whether s[pos, pos+len) is a whole address token, not part of a longer one.
bool whole_token(const std::string& s, std::size_t pos, std::size_t len, bool v6) {
  std::size_t end = pos + len;
  char before = pos > 0 ? s[pos - 1] : ' ';
  char after = end < s.size() ? s[end] : ' ';
  char after2 = end + 1 < s.size() ? s[end + 1] : ' ';
  if (v6) return !(is_hex(before) || before == ':') && !(is_hex(after) || after == ':');
  return !(is_digit(before) || before == '.') && !is_digit(after) && !(after == '.' && is_digit(after2));
}

std::size_t scrub_string(std::string& s, const std::vector<std::string>& addresses) {
  std::size_t count = 0;
  for (const auto& addr : addresses) {
    if (addr.empty()) continue;
    bool v6 = addr.find(':') != std::string::npos;
    std::size_t pos = 0;
    while ((pos = s.find(addr, pos)) != std::string::npos) {
      if (whole_token(s, pos, addr.size(), v6)) {
        s.replace(pos, addr.size(), "[scrubbed]");
        pos += 10;
        ++count;
      } else {
        pos += 1;
      }
    }
  }
  return count;
}

std::size_t scrub_value(json& j, const std::vector<std::string>& addresses) {
  std::size_t count = 0;
  if (j.is_string()) {
    auto s = j.get<std::string>();
    std::size_t n = scrub_string(s, addresses);
    if (n) j = s;
    count += n;
  } else if (j.is_array()) {
    for (auto& v : j) count += scrub_value(v, addresses);
  } else if (j.is_object() && j.size() == 2 && j.value("format", json()) == "base64" && j["data"].is_string()) {
    // Bytes that were not UTF-8 (a block page in another charset, a DNS
    // message): the address may be inside them too.
    std::string bytes;
    if (base64_decode(j["data"].get<std::string>(), bytes)) {
      std::size_t n = scrub_string(bytes, addresses);
      if (n) j["data"] = base64_encode(bytes);
      count += n;
    }
  } else if (j.is_object()) {
    json out = json::object();
    for (auto it = j.begin(); it != j.end(); ++it) {
      std::string key = it.key();
      count += scrub_string(key, addresses);
      json v = it.value();
      count += scrub_value(v, addresses);
      out[key] = std::move(v);
    }
    j = std::move(out);
  }
  return count;
}

}  // namespace

std::size_t scrub_addresses(json& measurement, const std::vector<std::string>& addresses) {
  std::size_t n = scrub_value(measurement, addresses);
  if (measurement.is_object()) measurement["probe_ip"] = "127.0.0.1";
  return n;
}

}  // namespace vantage::format
