// Where the collector keeps reports and measurements, behind one interface
// with two implementations: SQLite (one file, WAL; the default) and
// ClickHouse (over its HTTP interface, JSONEachRow). The collector and the
// analysis read through the same query interface whichever store is used.
//
// Contract every store keeps:
//   - insert_measurement is idempotent on body_sha512: storing the same
//     measurement again returns the UID it was first stored under and stores
//     nothing new;
//   - when insert_measurement returns without error the row is durable (the
//     collector acknowledges only then);
//   - errors are returned as strings, never thrown.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace vantage::collector {

struct ReportRecord {
  std::string report_id;
  std::string test_name;
  std::string test_version;
  std::string probe_cc;
  std::string probe_asn;
  std::string software_name;
  std::string software_version;
  std::string test_start_time;  // as sent, "YYYY-MM-DD HH:MM:SS"
  std::int64_t created = 0;     // seconds since the epoch
  std::int64_t closed = 0;      // 0 = open
};

struct StoredMeasurement {
  std::string measurement_uid;
  std::string report_id;
  std::string test_name;
  std::string probe_cc;
  std::string probe_asn;
  std::string measurement_start_time;
  std::string body_sha512;  // hex, the idempotency key
  std::string body;         // the measurement JSON as stored
  std::int64_t received = 0;
};

struct InsertResult {
  std::string error;            // "" = stored (or already there)
  std::string measurement_uid;  // of the stored row
  bool inserted = false;        // false = it was already there
};

// Filters are ANDed; empty = any.
struct MeasurementQuery {
  std::string report_id;
  std::string test_name;
  std::string probe_cc;
  std::string probe_asn;
  std::string measurement_uid;
  std::string after_uid;  // only rows with measurement_uid > this (paging; rows come in uid order)
  std::size_t limit = 1000;
  bool with_body = true;
  // Stop after the row whose body brings the total to this many bytes
  // (0 = no cap): a page of large measurements stays bounded in memory.
  std::size_t max_body_bytes = 0;
};

class Store {
 public:
  virtual ~Store() = default;
  virtual std::string name() const = 0;  // "sqlite" or "clickhouse"

  virtual std::string create_report(const ReportRecord& report) = 0;
  // nullopt with error "" = no such report.
  virtual std::optional<ReportRecord> find_report(const std::string& report_id, std::string& error) = 0;
  virtual std::string close_report(const std::string& report_id, std::int64_t when) = 0;

  // `m.measurement_uid` is the UID to use if the body is new.
  virtual InsertResult insert_measurement(const StoredMeasurement& m) = 0;

  // Rows in measurement_uid order. Never holds the lock inserts take.
  virtual std::vector<StoredMeasurement> query(const MeasurementQuery& q, std::string& error) = 0;
  virtual std::int64_t count(const MeasurementQuery& q, std::string& error) = 0;

  // True when the store answers (for /health).
  virtual bool healthy(std::string& error) = 0;
};

// Opens a store from a URL:
//   sqlite:PATH, sqlite://PATH or a plain PATH  — one SQLite file (created)
//   clickhouse://HOST:PORT[/DATABASE][?unsynced=1] — ClickHouse's HTTP interface;
//       refused when the server cannot fsync inserts (fsync_after_insert,
//       ClickHouse 20.x and later) unless ?unsynced=1 accepts that risk
// Creates the tables if missing. nullptr and `error` on failure.
std::unique_ptr<Store> open_store(const std::string& url, std::string& error);

std::unique_ptr<Store> open_sqlite_store(const std::string& path, std::string& error);
std::unique_ptr<Store> open_clickhouse_store(const std::string& host, int port, const std::string& database,
                                             std::string& error, bool allow_unsynced = false);

}  // namespace vantage::collector
