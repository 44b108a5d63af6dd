// The collector's endpoints. See collector_http.h.
#include "reports/collector/collector_http.h"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "reports/collector/client_address.h"
#include "reports/format/json_limits.h"
#include "reports/server/json_log.h"

namespace vantage::collector {

using nlohmann::json;
using server::Request;
using server::Response;

namespace {

std::string dump_replacing(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

// A store failure is logged in full but answered generically: its text names
// hosts, ports and paths the client has no business knowing.
Response reply(const Reply& r) {
  if (r.http_status >= 500) {
    server::log_json_line({{"event", "store_error"}, {"error", r.body.value("error", std::string())}});
    Response out = server::error_response(r.http_status, "the store is unavailable; retry later");
    out.log_error = r.body.value("error", std::string());
    return out;
  }
  return server::json_response(r.http_status, dump_replacing(r.body));
}

bool parse_query(const Request& req, MeasurementQuery& q, std::string& error) {
  for (const auto& [name, value] : req.query) {
    if (value.size() > 256) {
      error = "query parameter " + format::quote_prefix(name, 32) + " is too long";
      return false;
    }
  }
  q.report_id = req.param("report_id");
  q.test_name = req.param("test_name");
  q.probe_cc = req.param("probe_cc");
  q.probe_asn = req.param("probe_asn");
  q.measurement_uid = req.param("measurement_uid");
  q.after_uid = req.param("after");
  q.with_body = req.param("body") == "1";
  if (req.has_param("limit")) {
    const std::string l = req.param("limit");
    if (l.empty() || l.size() > 4 || l.find_first_not_of("0123456789") != std::string::npos || std::stoul(l) < 1 ||
        std::stoul(l) > 1000) {
      error = "limit must be a number from 1 to 1000 (page with ?after=)";
      return false;
    }
    q.limit = std::stoul(l);
  } else {
    q.limit = 100;
  }
  return true;
}

}  // namespace

Response http_open_report(Collector& col, const Request& req) { return reply(col.open_report(req.body)); }

Response http_submit(Collector& col, const Request& req, const std::string& client_ip) {
  return reply(col.submit_measurement(req.params.at(0), req.body, client_ip));
}

Response http_close_report(Collector& col, const Request& req) { return reply(col.close_report(req.params.at(0))); }

Response http_health(Collector& col, const Request&) {
  std::string error;
  if (col.store().healthy(error))
    return server::json_response(200, dump_replacing({{"status", "ok"}, {"store", col.store().name()}}));
  Response r = server::json_response(503, dump_replacing({{"status", "unhealthy"}, {"store", col.store().name()}}));
  r.log_error = "store: " + error;
  return r;
}

Response http_count(Collector& col, const Request& req) {
  MeasurementQuery q;
  std::string error;
  if (!parse_query(req, q, error)) return server::error_response(400, error);
  auto n = col.store().count(q, error);
  if (!error.empty()) return reply({500, {{"error", "store: " + error}}});
  return server::json_response(200, dump_replacing({{"count", n}}));
}

Response http_measurements(Collector& col, const Request& req, std::size_t max_bytes) {
  MeasurementQuery q;
  std::string error;
  if (!parse_query(req, q, error)) return server::error_response(400, error);
  q.max_body_bytes = max_bytes;
  // The store reads on its own connection (never under the ingest lock) and
  // stops at the byte cap; the rows are then written out piece by piece.
  auto rows = std::make_shared<std::vector<StoredMeasurement>>(col.store().query(q, error));
  if (!error.empty()) return reply({500, {{"error", "store: " + error}}});
  const bool with_body = q.with_body;
  // A next page exists when this one stopped at the limit or the byte cap.
  std::size_t bytes = 0;
  for (const auto& m : *rows) bytes += m.body.size();
  const std::string next_after = (rows->size() >= q.limit || (with_body && bytes >= max_bytes)) && !rows->empty()
                                     ? rows->back().measurement_uid
                                     : std::string();
  auto next = std::make_shared<std::size_t>(0);
  auto opened = std::make_shared<bool>(false);
  Response r;
  r.stream = [rows, next, opened, with_body, next_after](std::string& chunk) {
    if (!*opened) chunk += "{\"results\":[", *opened = true;
    if (*next < rows->size()) {
      const StoredMeasurement& m = (*rows)[*next];
      if (*next > 0) chunk += ',';
      json row = {{"measurement_uid", m.measurement_uid}, {"report_id", m.report_id}, {"test_name", m.test_name},
                  {"probe_cc", m.probe_cc}, {"probe_asn", m.probe_asn},
                  {"measurement_start_time", m.measurement_start_time}, {"body_sha512", m.body_sha512},
                  {"received", m.received}};
      std::string text = dump_replacing(row);
      if (with_body) {
        // The stored body is JSON the collector wrote itself: spliced in as is.
        text.pop_back();
        text += ",\"measurement\":" + m.body + "}";
      }
      chunk += text;
      (*rows)[*next] = StoredMeasurement{};  // freed once sent: memory is one row, not the page
      ++*next;
      return true;
    }
    chunk += "]";
    if (!next_after.empty()) chunk += ",\"next_after\":" + dump_replacing(next_after);
    chunk += "}";
    return false;
  };
  return r;
}

std::string client_of(const Request& req, const std::vector<std::string>& trusted_proxies) {
  std::string client = client_address(req.peer, req.header("x-forwarded-for"), trusted_proxies);
  return client.empty() ? req.peer : client;
}

}  // namespace vantage::collector
