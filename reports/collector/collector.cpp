// Collector protocol logic. See collector.h.
#include "reports/collector/collector.h"

#include "reports/collector/client_address.h"

#include <openssl/evp.h>

#include <chrono>
#include <cstdio>
#include <ctime>
#include <random>

#include "reports/format/json_limits.h"
#include "reports/format/json_schema.h"
#include "reports/format/utc_time.h"

namespace vantage::collector {

using nlohmann::json;

namespace {

Reply error_reply(int status, std::string message) { return {status, json{{"error", std::move(message)}}}; }

std::string schema_errors_text(const std::vector<format::SchemaError>& errors) {
  std::string out;
  for (std::size_t i = 0; i < errors.size() && i < 5; ++i) {
    if (!out.empty()) out += "; ";
    out += (errors[i].path.empty() ? "/" : errors[i].path) + ": " + errors[i].message;
  }
  if (errors.size() > 5) out += "; and " + std::to_string(errors.size() - 5) + " more";
  return out;
}

// The depth limit is enforced while parsing: a document nested deeper is
// never built, so nothing below (schema checks, copies, dumps) meets one.
json parse_object(std::string_view body, std::string& error) {
  json j = format::parse_json_limited(body, format::kMaxJsonDepth, error);
  if (error.empty() && !j.is_object()) error = "body is not a JSON object";
  return j;
}

std::string random_suffix(std::size_t n) {
  static const char kAlphabet[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
  std::random_device rd;
  std::string out;
  for (std::size_t i = 0; i < n; ++i) out += kAlphabet[rd() % (sizeof kAlphabet - 1)];
  return out;
}

std::string dump(const json& j) { return format::dump_iterative(j); }

const char* kTime = "^[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}$";

// A string property: its length is checked before its pattern is tried.
json text(const char* pattern, int max_length) {
  return {{"type", "string"}, {"maxLength", max_length}, {"pattern", pattern}};
}
const char* kVersion = "^[0-9]+\\.[0-9]+\\.[0-9]+([-+][0-9A-Za-z.-]+)?$";

}  // namespace

const json& measurement_schema() {
  static const json schema = {
      {"type", "object"},
      {"required",
       {"data_format_version", "measurement_start_time", "probe_asn", "probe_cc", "software_name",
        "software_version", "test_name", "test_version", "test_start_time", "test_keys"}},
      {"properties",
       {{"data_format_version", {{"const", "0.2.0"}}},
        {"measurement_start_time", text(kTime, 19)},
        {"test_start_time", text(kTime, 19)},
        {"probe_asn", text("^AS[0-9]{1,10}$", 12)},
        {"probe_cc", text("^[A-Z]{2}$", 2)},
        // The volunteer's address never reaches a collector (reports/README.md: probe_ip is always 127.0.0.1).
        {"probe_ip", {{"anyOf", {{{"type", "null"}}, {{"const", "127.0.0.1"}}}}}},
        {"software_name", text("^[0-9A-Za-z_.+-]{1,64}$", 64)},
        {"software_version", text("^[0-9A-Za-z_.+-]{1,64}$", 64)},
        {"test_name", text("^[a-z0-9_]{1,30}$", 30)},
        {"test_version", text(kVersion, 64)},
        {"test_runtime", {{"type", {"number", "null"}}, {"minimum", 0}}},
        {"input", {{"type", {"string", "null"}}}},
        {"report_id", {{"type", {"string", "null"}}}},
        {"annotations", {{"type", {"object", "null"}}}},
        {"extensions", {{"type", {"object", "null"}}}},
        {"test_helpers", {{"type", {"object", "null"}}}},
        {"test_keys", {{"type", "object"}}}}}};
  return schema;
}

const json& open_report_schema() {
  static const json schema = {
      {"type", "object"},
      {"required",
       {"data_format_version", "format", "probe_asn", "probe_cc", "software_name", "software_version", "test_name",
        "test_start_time", "test_version"}},
      {"properties",
       {{"data_format_version", {{"const", "0.2.0"}}},
        {"format", {{"const", "json"}}},
        {"probe_asn", text("^AS[0-9]{1,10}$", 12)},
        {"probe_cc", text("^[A-Z]{2}$", 2)},
        {"software_name", text("^[0-9A-Za-z_.+-]{1,64}$", 64)},
        {"software_version", text("^[0-9A-Za-z_.+-]{1,64}$", 64)},
        {"test_name", text("^[a-z0-9_]{1,30}$", 30)},
        {"test_start_time", text(kTime, 19)},
        {"test_version", text(kVersion, 64)}}}};
  return schema;
}

std::string sha512_hex(std::string_view data) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), digest, &len, EVP_sha512(), nullptr);
  static const char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(len * 2);
  for (unsigned i = 0; i < len; ++i) out += kHex[digest[i] >> 4], out += kHex[digest[i] & 15];
  return out;
}

std::string measurement_key(const json& content) {
  // nlohmann::json objects are std::map: the dump is already key-sorted. No
  // copy and no recursion: the same bytes as the old copy-erase-dump().
  return sha512_hex(format::dump_iterative(content, "report_id"));
}

std::string make_report_id(std::int64_t now_seconds, const std::string& test_name, const std::string& cc,
                           const std::string& asn, const std::string& collector_name, const std::string& random) {
  const std::string stamp =
      format::utc_time(static_cast<std::time_t>(now_seconds), "%Y%m%dT%H%M%SZ");
  std::string name;
  for (char c : test_name)
    if (c != '_') name += c;
  const std::string asn_digits = asn.rfind("AS", 0) == 0 ? asn.substr(2) : asn;
  return stamp + "_" + name + "_" + cc + "_" + asn_digits + "_n" + collector_name + "_" + random;
}

std::string make_measurement_uid(std::int64_t now_micros, const std::string& cc, const std::string& test_name,
                                 const std::string& key_hex) {
  // From a time_t: the measurement's own start time may be any year the
  // schema allows (to 9999), past what a system_clock time_point can hold.
  const std::string stamp = format::utc_time(static_cast<std::time_t>(now_micros / 1000000), "%Y%m%d%H%M%S");
  char micros[16];
  std::snprintf(micros, sizeof micros, ".%06lld", static_cast<long long>(now_micros % 1000000));
  return stamp + micros + "_" + cc + "_" + test_name + "_" + key_hex.substr(0, 16);
}

std::int64_t uid_time_micros(const std::string& start_time, const std::string& key_hex) {
  std::tm tm{};
  // The schema has checked "YYYY-MM-DD HH:MM:SS".
  if (start_time.size() != 19 || !strptime(start_time.c_str(), "%Y-%m-%d %H:%M:%S", &tm)) return 0;
  const std::int64_t seconds = timegm(&tm);
  // Sub-second digits from the key, so measurements started in one second
  // still get distinct (and stable) UIDs.
  const std::int64_t fraction = static_cast<std::int64_t>(std::stoull(key_hex.substr(0, 8), nullptr, 16) % 1000000);
  return seconds * 1000000 + fraction;
}

bool plausible_report_id(const std::string& id) {
  if (id.empty() || id.size() > 200) return false;
  for (char c : id)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '-') return false;
  return true;
}

Reply Collector::open_report(std::string_view body) {
  std::string error;
  json req = parse_object(body, error);
  if (!error.empty()) return error_reply(400, error);
  if (auto errs = format::validate_schema(open_report_schema(), req); !errs.empty())
    return error_reply(400, "invalid report: " + schema_errors_text(errs));
  ReportRecord r;
  r.test_name = req["test_name"];
  r.test_version = req["test_version"];
  r.probe_cc = req["probe_cc"];
  r.probe_asn = req["probe_asn"];
  r.software_name = req["software_name"];
  r.software_version = req["software_version"];
  r.test_start_time = req["test_start_time"];
  r.created = std::time(nullptr);
  r.report_id = make_report_id(r.created, r.test_name, r.probe_cc, r.probe_asn, options_.collector_name,
                               random_suffix(40));
  if (auto err = store_.create_report(r); !err.empty()) return error_reply(500, "store: " + err);
  return {200, json{{"backend_version", options_.backend_version},
                    {"report_id", r.report_id},
                    {"supported_formats", {"json"}}}};
}

Reply Collector::submit_measurement(const std::string& report_id, std::string_view body, const std::string& client_ip) {
  if (!plausible_report_id(report_id)) return error_reply(400, "not a report id: " + format::quote_prefix(report_id));
  std::string error;
  json req = parse_object(body, error);
  if (!error.empty()) return error_reply(400, error);
  if (req.value("format", json("json")) != "json") return error_reply(400, "format must be \"json\"");
  if (!req.contains("content") || !req["content"].is_object())
    return error_reply(400, "content must be the measurement, a JSON object");
  json& content = req["content"];
  if (auto errs = format::validate_schema(measurement_schema(), content); !errs.empty())
    return error_reply(400, "invalid measurement: " + schema_errors_text(errs));
  if (auto why = own_address_refusal(content, client_ip); !why.empty()) return error_reply(400, why);
  auto report = store_.find_report(report_id, error);
  if (!error.empty()) return error_reply(500, "store: " + error);
  if (!report) return error_reply(404, "no report \"" + report_id + "\" (open one with POST /report)");
  // A closed report takes nothing more (its probe said it was done); a probe
  // retrying after a close opens a new report, and the idempotency key still
  // finds what was already stored.
  if (report->closed) return error_reply(409, "report " + report_id + " is closed (open a new one with POST /report)");
  for (const char* key : {"test_name", "probe_cc", "probe_asn"}) {
    const std::string got = content[key];
    const std::string want = key == std::string("test_name") ? report->test_name
                             : key == std::string("probe_cc") ? report->probe_cc
                                                               : report->probe_asn;
    if (got != want)
      return error_reply(400, std::string("measurement ") + key + " " + format::quote_prefix(got) +
                                  " does not match report " + report_id + " (\"" + want + "\")");
  }
  if (content.contains("report_id") && content["report_id"].is_string() && !content["report_id"].get<std::string>().empty() &&
      content["report_id"] != report_id)
    return error_reply(400, "measurement report_id " + format::quote_prefix(content["report_id"].get<std::string>()) +
                                " does not match the URL's report " + report_id);

  StoredMeasurement m;
  m.body_sha512 = measurement_key(content);
  content["report_id"] = report_id;
  m.body = dump(content);
  m.report_id = report_id;
  m.test_name = report->test_name;
  m.probe_cc = report->probe_cc;
  m.probe_asn = report->probe_asn;
  m.measurement_start_time = content["measurement_start_time"];
  const auto now = std::chrono::system_clock::now();
  m.received = std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count();
  // The UID is a function of the measurement alone (its start time and its
  // key), not of when or where it arrived: collectors sharing one store give
  // a resubmission the same UID, so whichever duplicate row the store keeps,
  // no acknowledged UID ever disappears.
  m.measurement_uid = make_measurement_uid(uid_time_micros(m.measurement_start_time, m.body_sha512), m.probe_cc,
                                           m.test_name, m.body_sha512);
  auto result = store_.insert_measurement(m);
  if (!result.error.empty()) return error_reply(500, "store: " + result.error);
  json answer = {{"measurement_uid", result.measurement_uid}};
  if (!result.inserted) answer["x_duplicate"] = true;
  return {200, answer};
}

Reply Collector::close_report(const std::string& report_id) {
  if (!plausible_report_id(report_id)) return error_reply(400, "not a report id: " + format::quote_prefix(report_id));
  std::string error;
  auto report = store_.find_report(report_id, error);
  if (!error.empty()) return error_reply(500, "store: " + error);
  if (!report) return error_reply(404, "no report \"" + report_id + "\"");
  if (auto err = store_.close_report(report_id, std::time(nullptr)); !err.empty()) return error_reply(500, "store: " + err);
  return {200, json::object()};
}

}  // namespace vantage::collector
