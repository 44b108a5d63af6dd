// The whole path: lab measurements (made by the real probe in the lab's
// scenarios, stored under tests/data/lab/, ground truth in
// ci/lab/scenarios/<name>.json "expect") are given locations and days by
// this test, uploaded over OONI's collector protocol to a real
// vantage-collector (SQLite; and ClickHouse when one answers at
// $VANTAGE_CLICKHOUSE_URL, default clickhouse://127.0.0.1:8123, started by
// ci/start-clickhouse.sh), then read back by the real vantage-analyze; the
// aggregates must match the scenarios' ground truth.
#include <curl/curl.h>
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <random>
#include <sstream>

#include "analysis/aggregate/clickhouse_source.h"
#include "analysis/aggregate/dashboard_data.h"
#include "reports/collector/tests/collector_process.h"

namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using vantage::collector::testing::CollectorProcess;

const std::string kSource = VANTAGE_SOURCE_DIR;

// The lab run of one scenario: one measurement per service.
std::map<std::string, json> lab_measurements(const std::string& scenario) {
  std::ifstream in(kSource + "/analysis/aggregate/tests/data/lab/" + scenario + ".jsonl");
  EXPECT_TRUE(in.good()) << scenario;
  std::map<std::string, json> out;
  std::string line;
  while (std::getline(in, line))
    if (!line.empty()) {
      json m = json::parse(line);
      out[m["test_name"]] = m;
    }
  return out;
}

json ground_truth(const std::string& scenario) {
  std::ifstream in(kSource + "/ci/lab/scenarios/" + scenario + ".json");
  EXPECT_TRUE(in.good()) << scenario;
  return json::parse(in)["expect"];
}

std::size_t collect(char* d, std::size_t s, std::size_t n, void* out) {
  static_cast<std::string*>(out)->append(d, s * n);
  return s * n;
}

json post(const std::string& url, const json& body) {
  CURL* c = curl_easy_init();
  std::string out, text = body.dump(-1, ' ', false, json::error_handler_t::replace);
  curl_slist* h = curl_slist_append(nullptr, "Content-Type: application/json");
  curl_easy_setopt(c, CURLOPT_URL, url.c_str());
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
  curl_easy_setopt(c, CURLOPT_POSTFIELDS, text.c_str());
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &out);
  curl_easy_setopt(c, CURLOPT_NOPROXY, "*");
  curl_easy_setopt(c, CURLOPT_TIMEOUT, 30L);
  CURLcode rc = curl_easy_perform(c);
  long status = 0;
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
  curl_slist_free_all(h);
  curl_easy_cleanup(c);
  EXPECT_EQ(rc, CURLE_OK);
  EXPECT_EQ(status, 200) << url << ": " << out;
  return json::parse(out, nullptr, false);
}

// GET `url`: the status and the body.
std::pair<long, std::string> get(const std::string& url) {
  CURL* c = curl_easy_init();
  std::string out;
  curl_easy_setopt(c, CURLOPT_URL, url.c_str());
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &out);
  curl_easy_setopt(c, CURLOPT_NOPROXY, "*");
  curl_easy_setopt(c, CURLOPT_TIMEOUT, 30L);
  EXPECT_EQ(curl_easy_perform(c), CURLE_OK) << url;
  long status = 0;
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
  curl_easy_cleanup(c);
  return {status, out};
}

// Uploads `m` as OONI's probes do: open a report, submit into it.
void upload(const std::string& base, json m) {
  json open = post(base + "/report", {{"data_format_version", "0.2.0"}, {"format", "json"},
                                      {"probe_asn", m["probe_asn"]}, {"probe_cc", m["probe_cc"]},
                                      {"software_name", m["software_name"]}, {"software_version", m["software_version"]},
                                      {"test_name", m["test_name"]}, {"test_start_time", m["test_start_time"]},
                                      {"test_version", m["test_version"]}});
  ASSERT_TRUE(open.contains("report_id")) << open.dump();
  m["report_id"] = open["report_id"];
  json sub = post(base + "/report/" + open["report_id"].get<std::string>(), {{"format", "json"}, {"content", m}});
  ASSERT_TRUE(sub.contains("measurement_uid")) << sub.dump();
}

struct Network {
  std::string cc, asn, name;
  std::vector<std::string> scenario_by_day;  // day i = 2026-11-(10+i)
};

// Two networks: one where WhatsApp's DNS starts lying on day 5, one where
// Signal is reset by SNI throughout.
const std::vector<Network>& networks() {
  static const std::vector<Network> n = {
      {"IR", "AS58224", "Iran Telecommunication Company PJS",
       {"clean", "clean", "clean", "clean", "clean", "whatsapp_nxdomain", "whatsapp_nxdomain", "whatsapp_nxdomain",
        "whatsapp_nxdomain", "whatsapp_nxdomain"}},
      {"RU", "AS12389", "PJSC Rostelecom",
       {"signal_sni_reset", "signal_sni_reset", "signal_sni_reset", "signal_sni_reset", "signal_sni_reset",
        "signal_sni_reset", "signal_sni_reset", "signal_sni_reset", "signal_sni_reset", "signal_sni_reset"}}};
  return n;
}

std::string day_of(std::size_t i) { return "2026-11-" + std::to_string(10 + i); }

int upload_all(const std::string& base) {
  int n = 0;
  for (const auto& net : networks())
    for (std::size_t d = 0; d < net.scenario_by_day.size(); ++d)
      for (auto [service, m] : lab_measurements(net.scenario_by_day[d])) {
        // Two probes a day in each network (distinct software versions).
        for (int probe = 0; probe < 2; ++probe) {
          m["probe_cc"] = net.cc, m["probe_asn"] = net.asn, m["probe_network_name"] = net.name;
          m["software_version"] = "0.1." + std::to_string(probe);
          m["measurement_start_time"] = day_of(d) + " 1" + std::to_string(probe) + ":00:00";
          m["test_start_time"] = m["measurement_start_time"];
          upload(base, m);
          ++n;
        }
      }
  return n;
}

int run(const std::vector<std::string>& args) {
  std::string cmd = VANTAGE_ANALYZE_PATH;
  for (const auto& a : args) cmd += " '" + a + "'";
  return std::system((cmd + " >/dev/null 2>&1").c_str());
}

json read_json(const fs::path& p) {
  std::ifstream in(p);
  return json::parse(in);
}

// The ground-truth checks shared by every store.
void check_against_ground_truth(const json& a, int uploaded) {
  EXPECT_EQ(a["totals"]["measurements"], uploaded);
  EXPECT_EQ(a["totals"]["unscorable"], 0);
  EXPECT_EQ(a["totals"]["probes"], 2 * 2 * 10);  // 2 networks x 2 probe versions x 10 days
  EXPECT_EQ(a["totals"]["first_day"], "2026-11-10");
  EXPECT_EQ(a["totals"]["last_day"], "2026-11-19");
  std::map<std::string, json> nets;
  for (const auto& n : a["networks"])
    nets[n["probe_asn"].get<std::string>() + "/" + n["service"].get<std::string>() + "/" + n["feature"].get<std::string>()] = n;
  for (const auto& net : networks()) {
    // Expected verdict counts per service and feature, from the scenarios.
    std::map<std::string, std::map<std::string, int>> want;
    std::map<std::string, std::map<std::string, int>> want_methods;
    for (const auto& scenario : net.scenario_by_day) {
      json truth = ground_truth(scenario);
      for (const auto& [service, e] : truth.items()) {
        want[service + "/"][e["status"]] += 2;
        for (const auto& m : e["methods"]) want_methods[service + "/"][m] += 2;
        for (const auto& [feature, f] : e["features"].items()) {
          want[service + "/" + feature][f["status"]] += 2;
          for (const auto& m : f["methods"]) want_methods[service + "/" + feature][m] += 2;
        }
      }
    }
    for (const auto& [key, counts] : want) {
      const std::string k = net.asn + "/" + key;
      ASSERT_TRUE(nets.count(k)) << k;
      for (const auto& [verdict, n] : counts) EXPECT_EQ(nets[k]["counts"][verdict], n) << k << " " << verdict;
      EXPECT_EQ(nets[k]["measurements"], 20) << k;
      EXPECT_EQ(nets[k]["probes"], 20) << k;
      EXPECT_EQ(nets[k]["probe_network_name"], net.name);
      for (const auto& [method, n] : want_methods[key]) EXPECT_EQ(nets[k]["methods"][method], n) << k << " " << method;
    }
  }
  // WhatsApp's DNS blocking in AS58224 from day 5, and nothing else changed.
  EXPECT_EQ(nets["AS58224/whatsapp/"]["first_blocked"], "2026-11-15");
  EXPECT_EQ(nets["AS58224/whatsapp/"]["blocking_rate"], 0.5);
  bool found = false;
  for (const auto& c : a["change_points"]) {
    EXPECT_EQ(c["probe_asn"], "AS58224") << c.dump();
    EXPECT_EQ(c["service"], "whatsapp") << c.dump();
    EXPECT_EQ(c["day"], "2026-11-15");
    EXPECT_EQ(c["direction"], "blocked");
    EXPECT_EQ(c["measurements"], 20);
    EXPECT_EQ(c["probes"], 20);
    if (c["feature"] == "messaging") {
      found = true;
      EXPECT_EQ(c["text"], "WhatsApp messaging blocked in AS58224 (IR) since 2026-11-15");
      EXPECT_EQ(c["rate_before"], 0.0);
      EXPECT_EQ(c["rate_after"], 1.0);
    }
  }
  EXPECT_TRUE(found) << a["change_points"].dump();
}

class Pipeline : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("vantage-pipeline-" + std::to_string(getpid()));
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  fs::path dir_;
};

TEST_F(Pipeline, LabMeasurementsThroughTheSqliteCollectorMatchGroundTruth) {
  const std::string store = "sqlite:" + (dir_ / "store.sqlite").string();
  CollectorProcess collector(store, {"--no-control", "--rate", "0"});
  ASSERT_TRUE(collector.start()) << collector.log();
  const int uploaded = upload_all(collector.url());
  ASSERT_EQ(run({store, "--json", (dir_ / "a.json").string(), "--csv", (dir_ / "a.csv").string()}), 0);
  const json a = read_json(dir_ / "a.json");
  check_against_ground_truth(a, uploaded);
  EXPECT_TRUE(fs::file_size(dir_ / "a.csv") > 100);

  // Filters: one network, one service, a time window.
  ASSERT_EQ(run({store, "--asn", "AS58224", "--service", "whatsapp", "--since", "2026-11-15", "--json",
                 (dir_ / "f.json").string()}), 0);
  const json f = read_json(dir_ / "f.json");
  EXPECT_EQ(f["totals"]["measurements"], 10);
  EXPECT_EQ(f["filters"]["probe_asn"], "AS58224");
  for (const auto& n : f["networks"]) EXPECT_EQ(n["counts"]["accessible"], 0) << n.dump();

  // The dashboard directory, and the collector's live documents.
  ASSERT_EQ(run({"dashboard", "--out", (dir_ / "dash").string(), store}), 0);
  const json index = read_json(dir_ / "dash" / "data" / "measurements" / "index.json");
  ASSERT_EQ(index.size(), static_cast<std::size_t>(uploaded));
  EXPECT_EQ(index[0]["day"], "2026-11-19");
  const std::string id = index[0]["id"];
  const json one = read_json(dir_ / "dash" / "data" / "measurements" / (id + ".json"));
  EXPECT_EQ(one["x_analysis"]["scoring_rule"], "vantage-verdict-recorded");
  EXPECT_TRUE(one["test_keys"].contains("queries"));
  auto live = vantage::analysis::serve_dashboard_data({"GET", "/dashboard/data/measurements/" + id + ".json", {}}, store);
  EXPECT_EQ(live.status, 200);
  EXPECT_EQ(json::parse(live.body)["x_analysis"], one["x_analysis"]);
  live = vantage::analysis::serve_dashboard_data({"GET", "/dashboard/data/aggregates.json", {{"probe_cc", "RU"}}}, store);
  ASSERT_EQ(live.status, 200);
  EXPECT_EQ(json::parse(live.body)["totals"]["measurements"], uploaded / 2);
  EXPECT_EQ(vantage::analysis::serve_dashboard_data({"GET", "/dashboard/data/aggregates.json", {{"probe_cc", "x'"}}}, store).status, 400);
  EXPECT_EQ(vantage::analysis::serve_dashboard_data({"GET", "/dashboard/data/measurements/nope.json", {}}, store).status, 404);
  EXPECT_EQ(vantage::analysis::serve_dashboard_data({"GET", "/dashboard/data/measurements/..%2f.json", {}}, store).status, 400);
  EXPECT_EQ(vantage::analysis::serve_dashboard_data({"POST", "/dashboard/data/aggregates.json", {}}, store).status, 405);

  // Over HTTP: the live list honours the page's filters (the newest that
  // match, not the newest of all), and the cached aggregates follow the
  // store: a measurement stored after a first answer is in the next one.
  const std::string data = collector.url() + "/dashboard/data/";
  auto [status, body] = get(data + "measurements/index.json?probe_cc=RU&service=signal&nonce=1");
  ASSERT_EQ(status, 200) << body;
  const json ru = json::parse(body);
  const json ru_totals = json::parse(get(data + "aggregates.json?probe_cc=RU&service=signal").second)["totals"];
  ASSERT_GT(ru_totals["measurements"].get<int>(), 0);
  EXPECT_EQ(ru.size(), ru_totals["measurements"].get<std::size_t>()) << "RU's signal measurements";
  for (const auto& r : ru) EXPECT_TRUE(r["probe_cc"] == "RU" && r["service"] == "signal") << r.dump();
  EXPECT_EQ(get(data + "measurements/index.json?probe_cc=Russia").first, 400);
  auto total = [&] { return json::parse(get(data + "aggregates.json").second)["totals"]["measurements"]; };
  EXPECT_EQ(total(), uploaded);
  EXPECT_EQ(total(), uploaded);  // from the cache
  json extra = lab_measurements(networks()[0].scenario_by_day[0]).begin()->second;
  extra["probe_cc"] = "DE", extra["probe_asn"] = "AS3320", extra["measurement_start_time"] = "2026-11-20 09:00:00";
  extra["test_start_time"] = extra["measurement_start_time"];
  upload(collector.url(), extra);
  EXPECT_EQ(total(), uploaded + 1) << "the cached aggregates missed a stored measurement";

  // Bad flags and inputs: a clear error, non-zero exit.
  EXPECT_NE(run({store, "--since", "yesterday"}), 0);
  EXPECT_NE(run({(dir_ / "missing.jsonl").string()}), 0);
}

TEST_F(Pipeline, LabMeasurementsThroughTheClickHouseCollectorMatchGroundTruth) {
  const char* env = std::getenv("VANTAGE_CLICKHOUSE_URL");
  const std::string base = env && *env ? env : "clickhouse://127.0.0.1:8123";
  std::string out;
  if (!vantage::analysis::clickhouse_query(base, "SELECT 1", out).empty())
    GTEST_SKIP() << "ClickHouse not reachable at " << base << " (run ci/start-clickhouse.sh)";
  const std::string db = "vantage_pipeline_" + std::to_string(getpid());
  const std::string store = base + "/" + db;
  int uploaded = 0;
  {
    // Durability is not what this test checks: Debian 12's ClickHouse (18.16)
    // cannot fsync inserts, which the store refuses without ?unsynced=1.
    CollectorProcess collector(store + "?unsynced=1", {"--no-control", "--rate", "0"});
    ASSERT_TRUE(collector.start()) << collector.log();
    uploaded = upload_all(collector.url());
  }
  const int rc = run({store, "--json", (dir_ / "a.json").string()});
  vantage::analysis::clickhouse_query(base, "DROP DATABASE IF EXISTS " + db, out);
  ASSERT_EQ(rc, 0);
  check_against_ground_truth(read_json(dir_ / "a.json"), uploaded);
}

}  // namespace
