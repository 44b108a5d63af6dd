// Aggregation of scored measurements into the figures researchers read:
// per day, country, network (ASN), service, feature, verdict and method —
// counts, blocking rates, first and last seen, change points (two-sided
// CUSUM over daily blocking rates) — each with the number of measurements
// and probes behind it. The output is the dashboard's data contract
// (aggregates.json; documented in reports/README.md) and CSV.
//
// Probes: the OONI format carries no probe identity (by design), so a
// "probe" here is a probe-day: a distinct (probe_asn, software_name,
// software_version, day). Two probes of the same software in the same
// network on the same day count once; a probe seen on three days counts
// three times in a multi-day figure. It never counts one probe as many on
// one day, which is what report_ids (one per run and upload) would do.
//
// Everything is computed from Cells — measurements sharing every key — so
// the same code aggregates rows streamed by the tool and rows already
// grouped by a database (ClickHouse's GROUP BY returns exactly cells).
#pragma once

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "analysis/score/score.h"

namespace vantage::analysis {

struct Filters {
  std::string since, until;  // "YYYY-MM-DD", inclusive; "" = open
  std::string probe_cc, probe_asn, service;
  bool matches(const std::string& day, const std::string& cc, const std::string& asn, const std::string& service) const;
  nlohmann::json to_json() const;  // the "filters" object, "" as null
  // Checks the formats (day YYYY-MM-DD, cc two letters, asn AS<digits>); "" or the error.
  std::string validate() const;
};

// What the aggregation needs of one measurement besides its score.
struct MeasurementKeys {
  std::string day;  // from measurement_start_time
  std::string probe_cc, probe_asn, probe_network_name;
  std::string service;  // test_name
  std::string software_name, software_version;
};

// A measurement's score as aggregation reads it, as views: into a parser's
// buffers (the ingest's hot path, which allocates nothing per measurement)
// or into a Score. Reused from one measurement to the next: only the first
// `feature_count` features are the current one's.
struct ScoreView {
  struct Feature {
    std::string_view name, status;
    std::vector<std::string_view> methods;  // sorted
  };
  std::string_view verdict;
  std::vector<std::string_view> methods;  // sorted, of the blocked features
  std::vector<Feature> features;
  std::size_t feature_count = 0;

  void clear() {
    verdict = {};
    methods.clear();
    feature_count = 0;
  }
  Feature& add_feature();  // a cleared entry after the current ones
  void assign(const Score& score);  // views into `score`, which must outlive them
};

struct Cell {
  std::string day, probe_cc, probe_asn, probe_network_name, service;
  std::string probe;    // the probe-day identity (see above)
  std::string feature;  // "" = the whole service
  std::string verdict;
  std::string method;   // the blocked feature's methods, sorted, joined by "+"; "" when none
};

// The probe-day identity of a measurement.
std::string probe_identity(const MeasurementKeys& k);

struct CusumPolicy {
  double slack = 0.05;      // k: drift tolerated per day
  double threshold = 0.3;   // h: cumulative excess that declares a change
  double min_shift = 0.3;   // |rate_after - rate_before| to report it
  std::int64_t min_measurements = 2;  // on each side
};

// One detected change in a daily rate series.
struct ChangePoint {
  std::size_t index;  // first day of the new regime
  double rate_before, rate_after;
  std::size_t begin, end;  // the two segments: [begin, index) and [index, end)
};

struct DailyRate {
  std::string day;
  std::int64_t blocked = 0, judged = 0;  // judged = accessible + blocked + partially_blocked + down
};

// Two-sided CUSUM on the days' blocking rates (days with judged == 0 are
// skipped by the caller). Rates are weighted by measurements.
std::vector<ChangePoint> detect_changes(const std::vector<DailyRate>& days, const CusumPolicy& policy = {});

class Aggregator {
 public:
  // One scored measurement: its service-level cell and one per feature.
  void add(const MeasurementKeys& keys, const Score& score);
  void add(const MeasurementKeys& keys, const ScoreView& score);
  // `n` measurements of one cell (rows grouped elsewhere).
  void add_cell(const Cell& cell, std::int64_t n);
  // Adds everything `other` counted (another part of the same input).
  void merge(const Aggregator& other);

  std::int64_t measurements() const;

  // aggregates.json as documented (generated_at "YYYY-MM-DDTHH:MM:SSZ").
  nlohmann::json to_json(const Filters& filters, const std::string& generated_at,
                         const CusumPolicy& policy = {}) const;
  // CSV (RFC 4180, header line first) of the daily rows, the networks and the change points.
  static std::string daily_csv(const nlohmann::json& aggregates);
  static std::string networks_csv(const nlohmann::json& aggregates);
  static std::string change_points_csv(const nlohmann::json& aggregates);

 private:
  struct Row {
    Cell cell;  // probe unset: rows merge probes
    std::int64_t measurements = 0;
    std::vector<int> probes;  // interned probe ids, sorted, unique
  };
  // The rows of one day, network and service (found or made).
  std::vector<Row>& group(const std::string& day, const std::string& cc, const std::string& asn,
                          const std::string& service);
  // The group's row for these keys (taking `network_name` if it has none yet), or null.
  static Row* find(std::vector<Row>& group, std::string_view feature, std::string_view verdict,
                   std::string_view method, const std::string& network_name);
  static Row& row(std::vector<Row>& group, const Cell& cell);  // found or made from `cell`
  static void count(Row& row, int probe, std::int64_t n);
  int probe_id(const std::string& probe);
  // Rows by day, network and service: a measurement's cells share these, so
  // one hash lookup finds them all.
  std::unordered_map<std::string, std::vector<Row>> groups_;
  std::unordered_map<std::string, int> probe_ids_;
  std::string key_buffer_, method_buffer_;
  ScoreView view_buffer_;
};

// Human name of a service for change-point texts ("whatsapp" -> "WhatsApp").
std::string service_display_name(const std::string& service);

}  // namespace vantage::analysis
