// Aggregation as SQL in ClickHouse. See clickhouse_source.h for the contract.
#include "analysis/aggregate/clickhouse_source.h"

#include <sstream>

#include "reports/clickhouse/clickhouse_http.h"

namespace vantage::analysis {
namespace {

using nlohmann::json;

struct Target {
  std::string base, db, error;
};

Target parse_url(const std::string& url) {
  Target t;
  std::string rest = url.substr(std::string("clickhouse://").size());
  t.db = "vantage";
  if (auto slash = rest.find('/'); slash != std::string::npos) {
    if (slash + 1 < rest.size()) t.db = rest.substr(slash + 1);
    rest.resize(slash);
  }
  for (char c : t.db)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_') t.error = url + ": the database name may only have letters, digits and _";
  if (rest.empty() || rest.find_first_of("@?#") != std::string::npos) t.error = url + ": expected clickhouse://HOST:PORT[/DATABASE]";
  if (rest.find(':') == std::string::npos) rest += ":8123";
  t.base = "http://" + rest + "/";
  return t;
}

std::string run(const Target& t, const std::string& sql, std::string& out) {
  clickhouse::Statement statement;
  statement.base_url = t.base;
  statement.sql = sql;
  statement.timeout = std::chrono::minutes(10);  // aggregation over every measurement
  return clickhouse::run(statement, out);
}

using clickhouse::quote;

std::string where(const Filters& f) {
  std::string w;
  auto add = [&](const std::string& cond) { w += " AND " + cond; };
  if (!f.probe_cc.empty()) add("probe_cc = " + quote(f.probe_cc));
  if (!f.probe_asn.empty()) add("probe_asn = " + quote(f.probe_asn));
  if (!f.service.empty()) add("test_name = " + quote(f.service));
  if (!f.since.empty()) add("measurement_start_time >= " + quote(f.since));
  if (!f.until.empty()) add("measurement_start_time <= " + quote(f.until + "~"));
  return w;
}

// Every JSONEachRow line of `out`, parsed.
template <typename Fn>
std::string for_each_row(const std::string& out, Fn fn) {
  std::istringstream in(out);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    json j = json::parse(line, nullptr, false);
    if (!j.is_object()) return "clickhouse: unreadable row";
    fn(j);
  }
  return "";
}

std::int64_t as_int(const json& v) {
  if (v.is_number_integer()) return v.get<std::int64_t>();
  if (v.is_string()) try {
      return std::stoll(v.get<std::string>());
    } catch (...) {
    }
  return 0;
}

// The recorded verdict's pieces, as SQL over the canonical body text.
constexpr const char* kVerdictColumns =
    "visitParamExtractRaw(body, 'x_verdict') AS v, "
    "extract(v, '\"status\":\"([a-z_]*)\"}$') AS service_status, "
    "extractAll(v, '\"[A-Za-z0-9_.-]+\":{\"endpoints\":{[^{}]*},\"methods\":\\\\[[^\\\\]]*\\\\],\"status\":\"[a-z_]+\"}') AS feats";

}  // namespace

std::string clickhouse_query(const std::string& url, const std::string& sql, std::string& out) {
  Target t = parse_url(url);
  if (!t.error.empty()) return t.error;
  return run(t, sql, out);
}

std::string aggregate_in_clickhouse(const std::string& url, Ingest& ingest) {
  Target t = parse_url(url);
  if (!t.error.empty()) return t.error;
  const Filters& f = ingest.options().filters;
  const std::string table = t.db + ".measurements FINAL";
  const std::string has_verdict = "position(body, '\"x_verdict\":{') > 0";

  // 1. Cells of the measurements with a recorded verdict, grouped in SQL.
  //    The service-level entry ('' feature) and one per feature.
  const std::string cells_sql =
      "SELECT day, probe_cc, probe_asn, net, test_name, sw, ver, feature, verdict, "
      "if(verdict IN ('blocked', 'partially_blocked'), method, '') AS method, count() AS n FROM ("
      " SELECT day, probe_cc, probe_asn, net, test_name, sw, ver, "
      "  if(item = '', '', extract(item, '^\"([^\"]+)\"')) AS feature, "
      "  if(item = '', if(length(feats) = 0, 'unscorable', service_status), extract(item, '\"status\":\"([a-z_]+)\"}$')) AS verdict, "
      "  replaceAll(replaceAll(if(item = '', extract(v, '\"methods\":\\\\[([^\\\\]]*)\\\\],\"status\":\"[a-z_]*\"}$'), "
      "   extract(item, '\"methods\":\\\\[([^\\\\]]*)\\\\]')), '\"', ''), ',', '+') AS method "
      " FROM (SELECT substring(measurement_start_time, 1, 10) AS day, probe_cc, probe_asn, test_name, "
      "   visitParamExtractString(body, 'probe_network_name') AS net, "
      "   visitParamExtractString(body, 'software_name') AS sw, "
      "   visitParamExtractString(body, 'software_version') AS ver, " +
      std::string(kVerdictColumns) + " FROM " + table + " WHERE " + has_verdict + where(f) +
      ") ARRAY JOIN arrayConcat([''], feats) AS item"
      ") GROUP BY day, probe_cc, probe_asn, net, test_name, sw, ver, feature, verdict, method FORMAT JSONEachRow";
  std::string out;
  if (auto err = run(t, cells_sql, out); !err.empty()) return err;
  std::int64_t in_store = 0;
  if (auto err = for_each_row(out,
                              [&](const json& r) {
                                MeasurementKeys k;
                                k.day = r.value("day", ""), k.probe_cc = r.value("probe_cc", "");
                                k.probe_asn = r.value("probe_asn", ""), k.probe_network_name = r.value("net", "");
                                k.service = r.value("test_name", ""), k.software_name = r.value("sw", "");
                                k.software_version = r.value("ver", "");
                                Cell c{k.day, k.probe_cc, k.probe_asn, k.probe_network_name, k.service,
                                       probe_identity(k), r.value("feature", ""), r.value("verdict", ""),
                                       r.value("method", "")};
                                const std::int64_t n = as_int(r.value("n", json(0)));
                                if (c.feature.empty()) in_store += n;
                                ingest.aggregator().add_cell(c, n);
                              });
      !err.empty())
    return err;
  ingest.mutable_stats().rows_aggregated_in_store += static_cast<std::uint64_t>(in_store);
  ingest.mutable_stats().measurements += static_cast<std::uint64_t>(in_store);

  // 2. The newest measurements with a recorded verdict, for the index.
  const std::size_t limit = 5000;
  std::string index_sql =
      "SELECT measurement_uid, measurement_start_time, probe_cc, probe_asn, test_name, "
      "visitParamExtractString(body, 'software_name') AS sw, v" +
      std::string(ingest.options().keep_bodies ? ", body" : "") + " FROM (SELECT *, " + kVerdictColumns + " FROM " +
      table + " WHERE " + has_verdict + where(f) + " ORDER BY measurement_start_time DESC, measurement_uid DESC LIMIT " +
      std::to_string(limit) + ") FORMAT JSONEachRow";
  if (auto err = run(t, index_sql, out); !err.empty()) return err;
  if (auto err = for_each_row(out,
                              [&](const json& r) {
                                Score s = score_recorded_verdict(json::parse(r.value("v", ""), nullptr, false));
                                s.service = r.value("test_name", "");
                                const std::string start = r.value("measurement_start_time", "");
                                json entry = {{"id", r.value("measurement_uid", "")}, {"measurement_start_time", start},
                                              {"day", start.substr(0, std::min<std::size_t>(10, start.size()))},
                                              {"probe_cc", r.value("probe_cc", "")}, {"probe_asn", r.value("probe_asn", "")},
                                              {"service", s.service}, {"test_name", s.service},
                                              {"software_name", r.value("sw", "")}, {"verdict", s.verdict},
                                              {"methods", s.methods}, {"scoring_rule", s.scoring_rule}};
                                ingest.add_index_entry(std::move(entry), r.value("body", ""), to_x_analysis(s));
                              });
      !err.empty())
    return err;

  // 3. Measurements without a recorded verdict: scored here, in pages.
  std::string last_uid;
  for (;;) {
    const std::string sql = "SELECT measurement_uid, body FROM " + table + " WHERE NOT (" + has_verdict + ")" + where(f) +
                            " AND measurement_uid > " + quote(last_uid) +
                            " ORDER BY measurement_uid LIMIT 10000 FORMAT JSONEachRow";
    if (auto err = run(t, sql, out); !err.empty()) return err;
    std::size_t rows = 0;
    std::vector<char> buf;
    if (auto err = for_each_row(out,
                                [&](const json& r) {
                                  ++rows;
                                  last_uid = r.value("measurement_uid", "");
                                  const std::string body = r.value("body", "");
                                  buf.assign(body.begin(), body.end());
                                  buf.resize(body.size() + 64);
                                  ingest.add_text(std::string_view(buf.data(), body.size()), buf.size(), last_uid);
                                });
        !err.empty())
      return err;
    if (rows < 10000) break;
  }
  return "";
}

}  // namespace vantage::analysis
