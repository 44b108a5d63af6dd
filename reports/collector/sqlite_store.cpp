// The SQLite store: one file in WAL mode, synchronous=FULL so that an
// acknowledged measurement survives a crash of the collector or the machine.
// One connection behind a mutex for writes (SQLite serializes writers
// anyway, and the collector's writes are small) and a second, read-only one
// for queries, so a long read never stalls ingest (WAL lets readers and the
// writer proceed together). The file is created mode 0600 (its -wal and -shm
// files take the same mode). See store.h for the contract.
#include <fcntl.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <mutex>

#include "reports/collector/store.h"

namespace vantage::collector {

namespace {

constexpr const char* kSchema = R"sql(
CREATE TABLE IF NOT EXISTS reports (
  report_id TEXT PRIMARY KEY,
  test_name TEXT NOT NULL,
  test_version TEXT NOT NULL,
  probe_cc TEXT NOT NULL,
  probe_asn TEXT NOT NULL,
  software_name TEXT NOT NULL,
  software_version TEXT NOT NULL,
  test_start_time TEXT NOT NULL,
  created INTEGER NOT NULL,
  closed INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS measurements (
  measurement_uid TEXT PRIMARY KEY,
  report_id TEXT NOT NULL,
  test_name TEXT NOT NULL,
  probe_cc TEXT NOT NULL,
  probe_asn TEXT NOT NULL,
  measurement_start_time TEXT NOT NULL,
  body_sha512 TEXT NOT NULL UNIQUE,
  body TEXT NOT NULL,
  received INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS measurements_by_report ON measurements(report_id);
CREATE INDEX IF NOT EXISTS measurements_by_cc_test ON measurements(probe_cc, test_name);
)sql";

// A prepared statement that finalizes itself.
class Statement {
 public:
  Statement(sqlite3* db, const std::string& sql) { rc_ = sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt_, nullptr); }
  ~Statement() { sqlite3_finalize(stmt_); }
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;
  bool ok() const { return rc_ == SQLITE_OK; }
  sqlite3_stmt* get() { return stmt_; }
  void bind(int i, const std::string& s) { sqlite3_bind_text(stmt_, i, s.data(), static_cast<int>(s.size()), SQLITE_TRANSIENT); }
  void bind(int i, std::int64_t v) { sqlite3_bind_int64(stmt_, i, v); }
  int step() { return sqlite3_step(stmt_); }
  std::string text(int col) {
    const unsigned char* t = sqlite3_column_text(stmt_, col);
    return t ? std::string(reinterpret_cast<const char*>(t), sqlite3_column_bytes(stmt_, col)) : std::string();
  }
  std::int64_t integer(int col) { return sqlite3_column_int64(stmt_, col); }

 private:
  sqlite3_stmt* stmt_ = nullptr;
  int rc_ = SQLITE_ERROR;
};

class SqliteStore final : public Store {
 public:
  SqliteStore(sqlite3* db, sqlite3* reader) : db_(db), reader_(reader) {}
  ~SqliteStore() override {
    sqlite3_close_v2(reader_);
    sqlite3_close_v2(db_);
  }

  std::string name() const override { return "sqlite"; }

  std::string create_report(const ReportRecord& r) override {
    std::lock_guard<std::mutex> lock(mu_);
    Statement s(db_,
                "INSERT INTO reports(report_id,test_name,test_version,probe_cc,probe_asn,software_name,"
                "software_version,test_start_time,created,closed) VALUES(?,?,?,?,?,?,?,?,?,0)");
    if (!s.ok()) return error_text("prepare insert report");
    s.bind(1, r.report_id), s.bind(2, r.test_name), s.bind(3, r.test_version), s.bind(4, r.probe_cc);
    s.bind(5, r.probe_asn), s.bind(6, r.software_name), s.bind(7, r.software_version);
    s.bind(8, r.test_start_time), s.bind(9, r.created);
    if (s.step() != SQLITE_DONE) return error_text("insert report");
    return "";
  }

  std::optional<ReportRecord> find_report(const std::string& id, std::string& error) override {
    std::lock_guard<std::mutex> lock(mu_);
    Statement s(db_,
                "SELECT report_id,test_name,test_version,probe_cc,probe_asn,software_name,software_version,"
                "test_start_time,created,closed FROM reports WHERE report_id=?");
    if (!s.ok()) {
      error = error_text("prepare find report");
      return std::nullopt;
    }
    s.bind(1, id);
    int rc = s.step();
    if (rc == SQLITE_DONE) return std::nullopt;
    if (rc != SQLITE_ROW) {
      error = error_text("find report");
      return std::nullopt;
    }
    ReportRecord r;
    r.report_id = s.text(0), r.test_name = s.text(1), r.test_version = s.text(2), r.probe_cc = s.text(3);
    r.probe_asn = s.text(4), r.software_name = s.text(5), r.software_version = s.text(6);
    r.test_start_time = s.text(7), r.created = s.integer(8), r.closed = s.integer(9);
    return r;
  }

  std::string close_report(const std::string& id, std::int64_t when) override {
    std::lock_guard<std::mutex> lock(mu_);
    Statement s(db_, "UPDATE reports SET closed=? WHERE report_id=? AND closed=0");
    if (!s.ok()) return error_text("prepare close report");
    s.bind(1, when), s.bind(2, id);
    if (s.step() != SQLITE_DONE) return error_text("close report");
    return "";
  }

  InsertResult insert_measurement(const StoredMeasurement& m) override {
    std::lock_guard<std::mutex> lock(mu_);
    InsertResult out;
    {
      Statement s(db_,
                  "INSERT INTO measurements(measurement_uid,report_id,test_name,probe_cc,probe_asn,"
                  "measurement_start_time,body_sha512,body,received) VALUES(?,?,?,?,?,?,?,?,?) "
                  "ON CONFLICT(body_sha512) DO NOTHING");
      if (!s.ok()) return {error_text("prepare insert measurement"), "", false};
      s.bind(1, m.measurement_uid), s.bind(2, m.report_id), s.bind(3, m.test_name), s.bind(4, m.probe_cc);
      s.bind(5, m.probe_asn), s.bind(6, m.measurement_start_time), s.bind(7, m.body_sha512), s.bind(8, m.body);
      s.bind(9, m.received);
      if (s.step() != SQLITE_DONE) return {error_text("insert measurement"), "", false};
      if (sqlite3_changes(db_) == 1) return {"", m.measurement_uid, true};
    }
    Statement s(db_, "SELECT measurement_uid FROM measurements WHERE body_sha512=?");
    if (!s.ok()) return {error_text("prepare find duplicate"), "", false};
    s.bind(1, m.body_sha512);
    if (s.step() != SQLITE_ROW) return {error_text("find duplicate"), "", false};
    out.measurement_uid = s.text(0);
    return out;
  }

  std::vector<StoredMeasurement> query(const MeasurementQuery& q, std::string& error) override {
    std::lock_guard<std::mutex> lock(read_mu_);  // the reader's own lock, not the ingest one
    std::vector<std::string> args;
    std::string sql = std::string("SELECT measurement_uid,report_id,test_name,probe_cc,probe_asn,measurement_start_time,"
                                  "body_sha512,") +
                      (q.with_body ? "body" : "''") + ",received FROM measurements" + where(q, args) +
                      " ORDER BY measurement_uid LIMIT " + std::to_string(q.limit);
    Statement s(reader_, sql);
    std::vector<StoredMeasurement> out;
    if (!s.ok()) {
      error = "sqlite: prepare query: " + std::string(sqlite3_errmsg(reader_));
      return out;
    }
    std::size_t bytes = 0;
    for (std::size_t i = 0; i < args.size(); ++i) s.bind(static_cast<int>(i + 1), args[i]);
    int rc;
    while ((rc = s.step()) == SQLITE_ROW) {
      StoredMeasurement m;
      m.measurement_uid = s.text(0), m.report_id = s.text(1), m.test_name = s.text(2), m.probe_cc = s.text(3);
      m.probe_asn = s.text(4), m.measurement_start_time = s.text(5), m.body_sha512 = s.text(6);
      m.body = s.text(7), m.received = s.integer(8);
      bytes += m.body.size();
      out.push_back(std::move(m));
      if (q.max_body_bytes && bytes >= q.max_body_bytes) return out;
    }
    if (rc != SQLITE_DONE) error = "sqlite: query: " + std::string(sqlite3_errmsg(reader_));
    return out;
  }

  std::int64_t count(const MeasurementQuery& q, std::string& error) override {
    std::lock_guard<std::mutex> lock(read_mu_);
    std::vector<std::string> args;
    Statement s(reader_, "SELECT count(*) FROM measurements" + where(q, args));
    if (!s.ok()) {
      error = error_text("prepare count");
      return -1;
    }
    for (std::size_t i = 0; i < args.size(); ++i) s.bind(static_cast<int>(i + 1), args[i]);
    if (s.step() != SQLITE_ROW) {
      error = error_text("count");
      return -1;
    }
    return s.integer(0);
  }

  bool healthy(std::string& error) override {
    std::lock_guard<std::mutex> lock(mu_);
    Statement s(db_, "SELECT 1");
    if (!s.ok() || s.step() != SQLITE_ROW) {
      error = error_text("health check");
      return false;
    }
    return true;
  }

 private:
  static std::string where(const MeasurementQuery& q, std::vector<std::string>& args) {
    std::string w;
    auto add = [&](const char* col, const std::string& v) {
      if (v.empty()) return;
      w += (w.empty() ? " WHERE " : " AND ") + std::string(col) + "=?";
      args.push_back(v);
    };
    add("report_id", q.report_id), add("test_name", q.test_name), add("probe_cc", q.probe_cc);
    add("probe_asn", q.probe_asn), add("measurement_uid", q.measurement_uid);
    if (!q.after_uid.empty()) {
      w += (w.empty() ? " WHERE " : " AND ") + std::string("measurement_uid>?");
      args.push_back(q.after_uid);
    }
    return w;
  }
  std::string error_text(const std::string& what) { return "sqlite: " + what + ": " + sqlite3_errmsg(db_); }

  std::mutex mu_;
  sqlite3* db_;
  std::mutex read_mu_;
  sqlite3* reader_;
};

}  // namespace

std::unique_ptr<Store> open_sqlite_store(const std::string& path, std::string& error) {
  // Created 0600 before SQLite opens it: measurements are not for other users.
  if (int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0600); fd >= 0) ::close(fd);
  sqlite3* db = nullptr;
  int rc = sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX, nullptr);
  if (rc != SQLITE_OK) {
    error = "sqlite: cannot open " + path + ": " + (db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
    sqlite3_close_v2(db);
    return nullptr;
  }
  sqlite3_busy_timeout(db, 5000);
  char* msg = nullptr;
  const std::string setup = std::string("PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;") + kSchema;
  if (sqlite3_exec(db, setup.c_str(), nullptr, nullptr, &msg) != SQLITE_OK) {
    error = "sqlite: cannot set up " + path + ": " + (msg ? msg : "unknown error");
    sqlite3_free(msg);
    sqlite3_close_v2(db);
    return nullptr;
  }
  sqlite3* reader = nullptr;
  if (sqlite3_open_v2(path.c_str(), &reader, SQLITE_OPEN_READONLY | SQLITE_OPEN_FULLMUTEX, nullptr) != SQLITE_OK) {
    error = "sqlite: cannot open " + path + " for reading: " + (reader ? sqlite3_errmsg(reader) : "unknown error");
    sqlite3_close_v2(reader);
    sqlite3_close_v2(db);
    return nullptr;
  }
  sqlite3_busy_timeout(reader, 5000);
  return std::make_unique<SqliteStore>(db, reader);
}

}  // namespace vantage::collector
