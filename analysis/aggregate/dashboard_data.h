// The dashboard's data directory (DIR/data/, documented in reports/README.md)
// written from an ingest, and the same documents computed live from a
// collector's store for the collector to serve under /dashboard/data/.
#pragma once

#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "analysis/aggregate/ingest.h"

namespace vantage::analysis {

// "YYYY-MM-DDTHH:MM:SSZ", now.
std::string utc_now_iso();

// The full stored measurement plus its top-level "x_analysis".
// "" when `body` is not a JSON object.
std::string measurement_with_analysis(const std::string& body, const nlohmann::json& x_analysis);

// x_analysis of one stored measurement: the recorded verdict when it has
// one (as the aggregates use), else score_measurement.
nlohmann::json analyse_measurement(const nlohmann::json& measurement);

// Writes DIR/data/aggregates.json, DIR/data/measurements/index.json and
// DIR/data/measurements/<id>.json for every index entry whose body was kept.
// Returns "" or the error (naming the file).
std::string write_dashboard_data(const std::string& out_dir, const nlohmann::json& aggregates,
                                 const MeasurementIndex& index);

// Copies the dashboard's static pages from `site_dir` into `out_dir`
// (everything but a data/ folder). Returns "" or the error; a missing
// site_dir is an error naming it.
std::string write_dashboard_site(const std::string& out_dir, const std::string& site_dir);

// ---- live, for the collector --------------------------------------------

struct DashboardRequest {
  std::string method;  // "GET"
  std::string path;    // "/dashboard/data/aggregates.json", ...
  std::map<std::string, std::string> query;  // since, until, probe_cc, probe_asn, service
};

struct DashboardResponse {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
};

// Serves /dashboard/data/aggregates.json, /dashboard/data/measurements/index.json
// and /dashboard/data/measurements/<id>.json from the store at `store_url`
// (sqlite:PATH or clickhouse://HOST:PORT/DB, as the collector's --store).
// 400 for a bad filter or id, 404 for an unknown path or measurement, 405
// for a method other than GET/HEAD, 503 when the store does not answer.
DashboardResponse serve_dashboard_data(const DashboardRequest& request, const std::string& store_url);

// The pieces, as plain functions (error "" on success).
nlohmann::json dashboard_aggregates(const std::string& store_url, const Filters& filters, std::string& error);
nlohmann::json dashboard_index(const std::string& store_url, const Filters& filters, std::string& error);
// nullopt with error "" = no such measurement.
std::optional<std::string> dashboard_measurement(const std::string& store_url, const std::string& id,
                                                 std::string& error);

}  // namespace vantage::analysis
