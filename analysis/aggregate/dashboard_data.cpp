// Dashboard data, written and served. See dashboard_data.h for the contract.
#include "analysis/aggregate/dashboard_data.h"

#include <sqlite3.h>

#include <chrono>
#include <ctime>
#include <filesystem>
#include <fstream>

#include "analysis/aggregate/clickhouse_source.h"
#include "reports/format/utc_time.h"

namespace vantage::analysis {

using nlohmann::json;
namespace fs = std::filesystem;

namespace {

std::string dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

std::string write_file(const fs::path& path, const std::string& text) {
  const fs::path tmp = path.string() + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out << text;
    out.flush();
    if (!out) return tmp.string() + ": cannot write";
  }
  std::error_code ec;
  fs::rename(tmp, path, ec);
  return ec ? path.string() + ": " + ec.message() : "";
}

DashboardResponse error_response(int status, const std::string& message) {
  return {status, "application/json", dump(json{{"error", message}}), {}};
}

std::string sqlite_path(const std::string& url) {
  if (url.rfind("sqlite://", 0) == 0) return url.substr(9);
  if (url.rfind("sqlite:", 0) == 0) return url.substr(7);
  return url;
}

}  // namespace

std::string utc_now_iso() { return format::utc_time(std::chrono::system_clock::now(), "%Y-%m-%dT%H:%M:%SZ"); }

json analyse_measurement(const json& m) {
  if (m.is_object() && m.contains("test_keys") && m["test_keys"].is_object() && m["test_keys"].contains("x_verdict") &&
      m["test_keys"]["x_verdict"].is_object())
    return to_x_analysis(score_recorded_verdict(m["test_keys"]["x_verdict"]));
  return to_x_analysis(score_measurement(m));
}

std::string measurement_with_analysis(const std::string& body, const json& x_analysis) {
  json m = json::parse(body, nullptr, false);
  if (!m.is_object()) return "";
  m["x_analysis"] = x_analysis;
  return dump(m);
}

std::string write_dashboard_data(const std::string& out_dir, const json& aggregates, const MeasurementIndex& index) {
  const fs::path data = fs::path(out_dir) / "data";
  const fs::path measurements = data / "measurements";
  std::error_code ec;
  fs::create_directories(measurements, ec);
  if (ec) return measurements.string() + ": " + ec.message();
  if (auto err = write_file(data / "aggregates.json", dump(aggregates)); !err.empty()) return err;
  json entries = json::array();
  for (const auto* item : index.newest_first()) {
    if (item->body.empty()) continue;
    const std::string id = item->entry.value("id", "");
    if (!is_valid_measurement_id(id)) continue;
    const std::string text = measurement_with_analysis(item->body, item->x_analysis);
    if (text.empty()) continue;
    if (auto err = write_file(measurements / (id + ".json"), text); !err.empty()) return err;
    entries.push_back(item->entry);
  }
  return write_file(measurements / "index.json", dump(entries));
}

std::string write_dashboard_site(const std::string& out_dir, const std::string& site_dir) {
  std::error_code ec;
  if (site_dir.empty() || !fs::is_directory(site_dir, ec)) return "dashboard pages: no directory " + site_dir;
  for (const auto& entry : fs::directory_iterator(site_dir, ec)) {
    if (entry.path().filename() == "data") continue;
    fs::copy(entry.path(), fs::path(out_dir) / entry.path().filename(),
             fs::copy_options::recursive | fs::copy_options::overwrite_existing, ec);
    if (ec) return entry.path().string() + ": " + ec.message();
  }
  return ec ? site_dir + ": " + ec.message() : "";
}

// ---- live ---------------------------------------------------------------

namespace {

std::string ingest_store(const std::string& store_url, Ingest& ingest) {
  return ingest.add_input(store_url.rfind("clickhouse://", 0) == 0 ? store_url : "sqlite:" + sqlite_path(store_url));
}

}  // namespace

json dashboard_aggregates(const std::string& store_url, const Filters& filters, std::string& error) {
  IngestOptions o;
  o.filters = filters;
  o.index_limit = 0;
  Ingest ingest(o);
  error = ingest_store(store_url, ingest);
  if (!error.empty()) return nullptr;
  return ingest.aggregator().to_json(filters, utc_now_iso());
}

json dashboard_index(const std::string& store_url, const Filters& filters, std::string& error) {
  IngestOptions o;
  o.filters = filters;
  Ingest ingest(o);
  error = ingest_store(store_url, ingest);
  if (!error.empty()) return nullptr;
  return ingest.index().to_json();
}

std::optional<std::string> dashboard_measurement(const std::string& store_url, const std::string& id,
                                                 std::string& error) {
  error.clear();
  if (!is_valid_measurement_id(id)) {
    error = "measurement id must match [A-Za-z0-9_.-]{1,128}";
    return std::nullopt;
  }
  std::string body;
  if (store_url.rfind("clickhouse://", 0) == 0) {
    std::string db = "vantage";
    if (auto slash = store_url.find('/', 13); slash != std::string::npos && slash + 1 < store_url.size())
      db = store_url.substr(slash + 1);
    std::string out;
    error = clickhouse_query(store_url, "SELECT body FROM " + db + ".measurements FINAL WHERE measurement_uid = '" + id +
                                            "' LIMIT 1 FORMAT JSONEachRow",
                             out);
    if (!error.empty()) return std::nullopt;
    if (out.empty()) return std::nullopt;
    json row = json::parse(out.substr(0, out.find('\n')), nullptr, false);
    if (!row.is_object()) {
      error = "clickhouse: unreadable row";
      return std::nullopt;
    }
    body = row.value("body", "");
  } else {
    sqlite3* db = nullptr;
    const std::string path = sqlite_path(store_url);
    if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
      error = path + ": " + (db ? sqlite3_errmsg(db) : "cannot open");
      sqlite3_close(db);
      return std::nullopt;
    }
    sqlite3_stmt* stmt = nullptr;
    if (sqlite3_prepare_v2(db, "SELECT body FROM measurements WHERE measurement_uid = ?", -1, &stmt, nullptr) != SQLITE_OK) {
      error = path + ": " + sqlite3_errmsg(db);
      sqlite3_close(db);
      return std::nullopt;
    }
    sqlite3_bind_text(stmt, 1, id.data(), static_cast<int>(id.size()), SQLITE_TRANSIENT);
    const int rc = sqlite3_step(stmt);
    if (rc == SQLITE_ROW) body = reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0));
    else if (rc != SQLITE_DONE) error = path + ": " + sqlite3_errmsg(db);
    sqlite3_finalize(stmt);
    sqlite3_close(db);
    if (rc != SQLITE_ROW) return std::nullopt;
  }
  json m = json::parse(body, nullptr, false);
  if (!m.is_object()) {
    error = "stored measurement " + id + " is not a JSON object";
    return std::nullopt;
  }
  return measurement_with_analysis(body, analyse_measurement(m));
}

DashboardResponse serve_dashboard_data(const DashboardRequest& req, const std::string& store_url) {
  if (req.method != "GET" && req.method != "HEAD") return error_response(405, "only GET and HEAD");
  Filters f;
  auto q = [&](const char* k) {
    auto it = req.query.find(k);
    return it == req.query.end() ? std::string() : it->second;
  };
  f.since = q("since"), f.until = q("until"), f.probe_cc = q("probe_cc"), f.probe_asn = q("probe_asn");
  f.service = q("service");
  if (auto err = f.validate(); !err.empty()) return error_response(400, err);
  const std::string prefix = "/dashboard/data/";
  if (req.path.rfind(prefix, 0) != 0) return error_response(404, "no such dashboard document");
  const std::string rest = req.path.substr(prefix.size());
  std::string error;
  json doc;
  if (rest == "aggregates.json") {
    doc = dashboard_aggregates(store_url, f, error);
  } else if (rest == "measurements/index.json") {
    doc = dashboard_index(store_url, f, error);
  } else if (rest.rfind("measurements/", 0) == 0 && rest.size() > 18 && rest.compare(rest.size() - 5, 5, ".json") == 0) {
    const std::string id = rest.substr(13, rest.size() - 13 - 5);
    if (!is_valid_measurement_id(id)) return error_response(400, "measurement id must match [A-Za-z0-9_.-]{1,128}");
    auto body = dashboard_measurement(store_url, id, error);
    if (!error.empty()) return error_response(503, error);
    if (!body) return error_response(404, "no measurement " + id);
    return {200, "application/json", *body, {}};
  } else {
    return error_response(404, "no such dashboard document");
  }
  if (!error.empty()) return error_response(503, error);
  return {200, "application/json", dump(doc), {}};
}

}  // namespace vantage::analysis
