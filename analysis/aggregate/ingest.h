// Reading measurements into an Aggregator: JSON Lines files (plain or
// gzip), directories of them, a collector's SQLite store, or its ClickHouse
// store (where the aggregation runs in ClickHouse as SQL; see
// clickhouse_source.h).
//
// JSON Lines are parsed streaming with simdjson's On-Demand API: one pass
// per line reads the envelope and, for Vantage measurements, the verdict the
// probe recorded (test_keys.x_verdict, computed by the same compute_verdict
// the scorer uses; scoring_rule "vantage-verdict-recorded"). Only lines
// without a recorded verdict (OONI's measurements), or every line with
// `rescore`, are parsed into a DOM and scored by score_measurement.
// A malformed line is counted and skipped, never fatal.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "analysis/aggregate/aggregate.h"

namespace vantage::analysis {

// The newest measurements (by measurement_start_time, then id), at most
// `limit`, for the dashboard's index and drill-down.
class MeasurementIndex {
 public:
  explicit MeasurementIndex(std::size_t limit = 5000) : limit_(limit) {}
  // Whether an entry with this sort key would be kept (cheap; call first).
  bool wants(const std::string& start_time, const std::string& id) const;
  // `body` is kept only when not empty (the dashboard's per-measurement files).
  void offer(nlohmann::json entry, std::string body, nlohmann::json x_analysis);
  struct Item {
    std::string start_time, id;
    nlohmann::json entry;
    std::string body;
    nlohmann::json x_analysis;
  };
  // Newest first.
  std::vector<const Item*> newest_first() const;
  nlohmann::json to_json() const;
  // Offers every entry of `other` (another part of the same input).
  void merge(MeasurementIndex&& other);

 private:
  std::size_t limit_;
  std::vector<Item> heap_;  // min-heap on (start_time, id)
};

struct IngestStats {
  std::uint64_t bytes = 0;          // input bytes read (uncompressed)
  std::uint64_t lines = 0;          // non-empty lines / rows seen
  std::uint64_t measurements = 0;   // aggregated (after filters)
  std::uint64_t malformed = 0;      // not a JSON object
  std::uint64_t filtered_out = 0;
  std::uint64_t rows_aggregated_in_store = 0;  // ClickHouse: measurements counted by SQL
  IngestStats& operator+=(const IngestStats& other);
};

struct IngestOptions {
  Filters filters;
  bool rescore = false;      // re-run compute_verdict on Vantage measurements too
  bool keep_bodies = false;  // keep the index's measurement bodies (dashboard)
  std::size_t index_limit = 5000;
  // A plain JSON Lines file is read by this many threads, each its own range
  // of whole lines (0 = one per core, at most 8), of at least this many bytes each.
  unsigned threads = 0;
  std::uint64_t min_bytes_per_thread = std::uint64_t(32) << 20;
  // Called now and then with the stats so far (progress line).
  std::function<void(const IngestStats&)> progress;
};

// A valid dashboard id ([A-Za-z0-9_.-]{1,128}).
bool is_valid_measurement_id(std::string_view id);

class Ingest {
 public:
  explicit Ingest(IngestOptions options);
  ~Ingest();
  Ingest(const Ingest&) = delete;
  Ingest& operator=(const Ingest&) = delete;

  // One input: a file (.jsonl, .json, .gz), a directory (its own *.jsonl,
  // *.json, *.jsonl.gz, *.json.gz files in name order, not its
  // subdirectories: the probe's results hold a spool/ copy), an SQLite
  // store (sqlite:PATH, or a file that is one), or clickhouse://HOST:PORT[/DB].
  // Returns "" or an error naming the input.
  std::string add_input(const std::string& spec);

  std::string add_jsonl_file(const std::string& path);
  std::string add_sqlite(const std::string& path);
  std::string add_clickhouse(const std::string& url);

  // One measurement's JSON text. `text` must stay readable for
  // `readable` bytes from its start, with readable >= text.size() + 64
  // (simdjson's padding). `uid` = the store's measurement_uid, if any.
  void add_text(std::string_view text, std::size_t readable, std::string_view uid = {});
  // A measurement already scored elsewhere (ClickHouse's index rows).
  void add_index_entry(nlohmann::json entry, std::string body, nlohmann::json x_analysis);

  Aggregator& aggregator() { return aggregator_; }
  const MeasurementIndex& index() const { return index_; }
  const IngestStats& stats() const { return stats_; }
  const IngestOptions& options() const { return options_; }
  IngestStats& mutable_stats() { return stats_; }
  void report_progress();

 private:
  struct Parser;
  IngestOptions options_;
  Aggregator aggregator_;
  MeasurementIndex index_;
  IngestStats stats_;
  std::unique_ptr<Parser> parser_;
  std::uint64_t next_progress_ = 0;

  std::string add_jsonl_ranges(int fd, std::uint64_t size, const std::string& path);
  void merge(Ingest&& part);
};

}  // namespace vantage::analysis
