// The ClickHouse store, spoken to over ClickHouse's HTTP interface: DDL and
// SELECTs as POST bodies, inserts as JSONEachRow. Tables are
// ReplacingMergeTree keyed on the idempotency key (measurements) and the
// report id (reports, versioned by `closed`), and reads use FINAL, so even two
// collectors racing on the same measurement end up with one row. Within one
// collector, inserts are checked-then-written under a mutex so a resubmission
// gets the UID it was first given. See store.h for the contract.
//
// Durability: both tables are created with fsync_after_insert=1 and
// fsync_part_directory=1 (and older tables are switched to them on start),
// so ClickHouse answers an INSERT only once its part and the part's
// directory are on disk; inserts are synchronous (async_insert=0 on every
// request, where the server knows the setting). Only then does the collector
// acknowledge. A server without fsync_after_insert (before 20.x, e.g.
// Debian 12's 18.16) is refused unless the URL says ?unsynced=1.
//
// Several collectors on one ClickHouse: a measurement's UID is a function of
// its content (collector.cpp), so two collectors accepting the same
// measurement write the same row under the same key; reads use FINAL, so it
// is counted and returned once, and no acknowledged UID disappears when
// ClickHouse merges the duplicates.
#include <algorithm>
#include <mutex>
#include <nlohmann/json.hpp>
#include <sstream>

#include "reports/clickhouse/clickhouse_http.h"
#include "reports/collector/store.h"
#include "reports/format/ip_address.h"

namespace vantage::collector {

namespace {

using nlohmann::json;

using clickhouse::quote;

std::int64_t as_int(const json& v) {
  if (v.is_number_integer()) return v.get<std::int64_t>();
  if (v.is_string()) {
    try {
      return std::stoll(v.get<std::string>());
    } catch (...) {
      return 0;
    }
  }
  return 0;
}

class ClickHouseStore final : public Store {
 public:
  ClickHouseStore(std::string host, int port, std::string database)
      : base_("http://" + ip::join_host_port(host, port) + "/"),
        db_(std::move(database)) {}

  std::string name() const override { return "clickhouse"; }

  std::string setup(bool allow_unsynced) {
    std::string out;
    if (auto err = run("SELECT name FROM system.merge_tree_settings WHERE name = 'fsync_after_insert' FORMAT TSV", "",
                       out);
        !err.empty())
      return err;
    fsync_ = out.find("fsync_after_insert") != std::string::npos;
    if (!fsync_ && !allow_unsynced)
      return "clickhouse: this server cannot fsync inserts (no fsync_after_insert setting; ClickHouse 20.x or "
             "later has it): an acknowledged measurement could be lost in a crash. Upgrade it, or accept that risk "
             "with clickhouse://HOST:PORT/DATABASE?unsynced=1";
    if (auto err = run("SELECT name FROM system.settings WHERE name = 'async_insert' FORMAT TSV", "", out); !err.empty())
      return err;
    async_setting_ = out.find("async_insert") != std::string::npos;
    const std::string table_settings = fsync_ ? " SETTINGS fsync_after_insert = 1, fsync_part_directory = 1" : "";
    const std::string ddl[] = {
        "CREATE DATABASE IF NOT EXISTS {db}",
        "CREATE TABLE IF NOT EXISTS {db}.reports (report_id String, test_name String, test_version String, "
        "probe_cc String, probe_asn String, software_name String, software_version String, test_start_time String, "
        "created Int64, closed Int64) ENGINE = ReplacingMergeTree(closed) ORDER BY report_id" + table_settings,
        "CREATE TABLE IF NOT EXISTS {db}.measurements (measurement_uid String, report_id String, test_name String, "
        "probe_cc String, probe_asn String, measurement_start_time String, body_sha512 String, body String, "
        "received Int64) ENGINE = ReplacingMergeTree ORDER BY body_sha512" + table_settings,
    };
    for (const auto& q : ddl)
      if (auto err = run(with_db(q), "", out); !err.empty()) return err;
    if (fsync_) {
      // Tables made before this collector set them.
      for (const char* table : {"reports", "measurements"})
        if (auto err = run("ALTER TABLE " + db_ + "." + table +
                               " MODIFY SETTING fsync_after_insert = 1, fsync_part_directory = 1",
                           "", out);
            !err.empty())
          return err;
    }
    return "";
  }

  std::string create_report(const ReportRecord& r) override {
    json row = report_row(r);
    std::string out;
    return run("INSERT INTO " + db_ + ".reports FORMAT JSONEachRow", row.dump(), out);
  }

  std::optional<ReportRecord> find_report(const std::string& id, std::string& error) override {
    std::string out;
    error = run("SELECT * FROM " + db_ + ".reports FINAL WHERE report_id = " + quote(id) +
                    " ORDER BY closed DESC LIMIT 1 FORMAT JSONEachRow",
                "", out);
    if (!error.empty() || out.empty()) return std::nullopt;
    json j = json::parse(out.substr(0, out.find('\n')), nullptr, false);
    if (!j.is_object()) {
      error = "clickhouse: unreadable report row";
      return std::nullopt;
    }
    ReportRecord r;
    r.report_id = j.value("report_id", ""), r.test_name = j.value("test_name", "");
    r.test_version = j.value("test_version", ""), r.probe_cc = j.value("probe_cc", "");
    r.probe_asn = j.value("probe_asn", ""), r.software_name = j.value("software_name", "");
    r.software_version = j.value("software_version", ""), r.test_start_time = j.value("test_start_time", "");
    r.created = as_int(j.value("created", json(0))), r.closed = as_int(j.value("closed", json(0)));
    return r;
  }

  std::string close_report(const std::string& id, std::int64_t when) override {
    std::string error;
    auto r = find_report(id, error);
    if (!error.empty()) return error;
    if (!r || r->closed) return "";
    r->closed = when;  // the newer version replaces the open row
    return create_report(*r);
  }

  InsertResult insert_measurement(const StoredMeasurement& m) override {
    std::lock_guard<std::mutex> lock(insert_mu_);
    std::string out;
    if (auto err = run("SELECT measurement_uid FROM " + db_ + ".measurements WHERE body_sha512 = " +
                           quote(m.body_sha512) + " LIMIT 1 FORMAT JSONEachRow",
                       "", out);
        !err.empty())
      return {err, "", false};
    if (!out.empty()) {
      json j = json::parse(out.substr(0, out.find('\n')), nullptr, false);
      if (j.is_object()) return {"", j.value("measurement_uid", ""), false};
    }
    json row = {{"measurement_uid", m.measurement_uid}, {"report_id", m.report_id}, {"test_name", m.test_name},
                {"probe_cc", m.probe_cc}, {"probe_asn", m.probe_asn},
                {"measurement_start_time", m.measurement_start_time}, {"body_sha512", m.body_sha512},
                {"body", m.body}, {"received", m.received}};
    if (auto err = run("INSERT INTO " + db_ + ".measurements FORMAT JSONEachRow",
                       row.dump(-1, ' ', false, json::error_handler_t::replace), out);
        !err.empty())
      return {err, "", false};
    return {"", m.measurement_uid, true};
  }

  std::vector<StoredMeasurement> query(const MeasurementQuery& q, std::string& error) override {
    std::string out;
    std::vector<StoredMeasurement> rows;
    MeasurementQuery page = q;
    if (q.max_body_bytes && q.with_body) {
      // The byte cap: first the sizes (no bodies), then only the rows that
      // fit are read with their bodies.
      error = run("SELECT measurement_uid, length(body) AS n FROM " + db_ + ".measurements FINAL" + where(q) +
                      " ORDER BY measurement_uid LIMIT " + std::to_string(q.limit) + " FORMAT JSONEachRow",
                  "", out);
      if (!error.empty()) return rows;
      std::istringstream sizes(out);
      std::string line;
      std::size_t total = 0, count = 0;
      while (total < q.max_body_bytes && std::getline(sizes, line)) {
        json j = json::parse(line, nullptr, false);
        if (!j.is_object()) break;
        total += static_cast<std::size_t>(as_int(j.value("n", json(0))));
        ++count;
      }
      page.limit = std::max<std::size_t>(count, 1);
    }
    const std::string sql = std::string("SELECT measurement_uid, report_id, test_name, probe_cc, probe_asn, "
                                        "measurement_start_time, body_sha512, ") +
                            (q.with_body ? "body" : "'' AS body") + ", received FROM " + db_ +
                            ".measurements FINAL" + where(page) + " ORDER BY measurement_uid LIMIT " +
                            std::to_string(page.limit);
    error = run(sql + " FORMAT JSONEachRow", "", out);
    if (!error.empty()) return rows;
    std::istringstream in(out);
    std::string line;
    while (std::getline(in, line)) {
      json j = json::parse(line, nullptr, false);
      if (!j.is_object()) {
        error = "clickhouse: unreadable measurement row";
        return rows;
      }
      StoredMeasurement m;
      m.measurement_uid = j.value("measurement_uid", ""), m.report_id = j.value("report_id", "");
      m.test_name = j.value("test_name", ""), m.probe_cc = j.value("probe_cc", "");
      m.probe_asn = j.value("probe_asn", ""), m.measurement_start_time = j.value("measurement_start_time", "");
      m.body_sha512 = j.value("body_sha512", ""), m.body = j.value("body", "");
      m.received = as_int(j.value("received", json(0)));
      rows.push_back(std::move(m));
    }
    return rows;
  }

  std::int64_t count(const MeasurementQuery& q, std::string& error) override {
    std::string out;
    error = run("SELECT count() AS n FROM " + db_ + ".measurements FINAL" + where(q) + " FORMAT JSONEachRow", "", out);
    if (!error.empty()) return -1;
    json j = json::parse(out.substr(0, out.find('\n')), nullptr, false);
    if (!j.is_object()) {
      error = "clickhouse: unreadable count";
      return -1;
    }
    return as_int(j.value("n", json(0)));
  }

  bool healthy(std::string& error) override {
    std::string out;
    error = run("SELECT 1", "", out);
    return error.empty();
  }

 private:
  std::string with_db(std::string q) const {
    for (auto pos = q.find("{db}"); pos != std::string::npos; pos = q.find("{db}")) q.replace(pos, 4, db_);
    return q;
  }
  static json report_row(const ReportRecord& r) {
    return {{"report_id", r.report_id}, {"test_name", r.test_name}, {"test_version", r.test_version},
            {"probe_cc", r.probe_cc}, {"probe_asn", r.probe_asn}, {"software_name", r.software_name},
            {"software_version", r.software_version}, {"test_start_time", r.test_start_time},
            {"created", r.created}, {"closed", r.closed}};
  }
  static std::string where(const MeasurementQuery& q) {
    std::string w;
    auto add = [&](const char* col, const std::string& v) {
      if (v.empty()) return;
      w += (w.empty() ? " WHERE " : " AND ") + std::string(col) + " = " + quote(v);
    };
    add("report_id", q.report_id), add("test_name", q.test_name), add("probe_cc", q.probe_cc);
    add("probe_asn", q.probe_asn), add("measurement_uid", q.measurement_uid);
    if (!q.after_uid.empty()) w += (w.empty() ? " WHERE " : " AND ") + std::string("measurement_uid > ") + quote(q.after_uid);
    return w;
  }

  // Runs one statement. With `data`, the statement goes in the URL and the
  // data is the POST body (INSERT ... FORMAT JSONEachRow); otherwise the
  // statement is the body. Returns "" or "clickhouse: ..." with its message.
  std::string run(const std::string& statement, const std::string& data, std::string& out) {
    clickhouse::Statement s;
    s.base_url = base_;
    s.sql = statement;
    s.data = data;
    // Synchronous inserts only: an async insert is acknowledged before it is
    // written at all.
    if (async_setting_) s.url_settings = "async_insert=0";
    s.timeout = std::chrono::seconds(30);
    return clickhouse::run(s, out);
  }

  std::string base_;
  bool fsync_ = false;          // the server fsyncs every insert into our tables
  bool async_setting_ = false;  // the server knows async_insert
  std::string db_;
  std::mutex insert_mu_;
};

}  // namespace

std::unique_ptr<Store> open_clickhouse_store(const std::string& host, int port, const std::string& database,
                                             std::string& error, bool allow_unsynced) {
  auto store = std::make_unique<ClickHouseStore>(host, port, database);
  if (auto err = store->setup(allow_unsynced); !err.empty()) {
    error = err;
    return nullptr;
  }
  return store;
}

}  // namespace vantage::collector
