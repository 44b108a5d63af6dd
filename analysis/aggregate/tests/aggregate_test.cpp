// Aggregation, change points, and the streaming ingest (JSON Lines, gzip,
// malformed lines, filters, SQLite is covered by the pipeline test).
#include "analysis/aggregate/aggregate.h"

#include <gtest/gtest.h>
#include <unistd.h>
#include <zlib.h>

#include <filesystem>
#include <fstream>

#include "analysis/aggregate/dashboard_data.h"
#include "analysis/aggregate/ingest.h"

namespace vantage::analysis {
namespace {

using nlohmann::json;

// A Vantage-shaped measurement with a recorded verdict.
json vantage(const std::string& day, const std::string& asn, const std::string& status,
             const std::string& software_version = "0.1.0") {
  const bool blocked = status == "blocked";
  json methods = blocked ? json::array({"dns"}) : json::array();
  return {{"measurement_start_time", day + " 10:00:00"}, {"probe_cc", "IR"}, {"probe_asn", asn},
          {"probe_network_name", "Example ISP"}, {"software_name", "vantage"}, {"software_version", software_version},
          {"test_name", "whatsapp"}, {"report_id", "r1"},
          {"test_keys",
           {{"queries", json::array()},
            {"x_verdict",
             {{"status", status}, {"methods", methods},
              {"features", {{"messaging", {{"status", status}, {"methods", methods}, {"endpoints", {{"ok", 1}}}}}}}}}}}};
}

TEST(Cusum, FindsOneStepUpAndItsDay) {
  std::vector<DailyRate> days;
  for (int i = 0; i < 20; ++i) days.push_back({"2026-11-" + std::to_string(10 + i), i >= 10 ? 9 : 0, 10});
  auto cps = detect_changes(days);
  ASSERT_EQ(cps.size(), 1u);
  EXPECT_EQ(days[cps[0].index].day, "2026-11-20");
  EXPECT_DOUBLE_EQ(cps[0].rate_before, 0.0);
  EXPECT_DOUBLE_EQ(cps[0].rate_after, 0.9);
}

TEST(Cusum, NoChangeOnNoiseAndUpThenDown) {
  std::vector<DailyRate> noise;
  for (int i = 0; i < 30; ++i) noise.push_back({"d" + std::to_string(100 + i), i % 3 == 0 ? 2 : 1, 10});
  EXPECT_TRUE(detect_changes(noise).empty());
  std::vector<DailyRate> updown;
  for (int i = 0; i < 30; ++i) updown.push_back({"d" + std::to_string(100 + i), (i >= 10 && i < 20) ? 10 : 0, 10});
  auto cps = detect_changes(updown);
  ASSERT_EQ(cps.size(), 2u);
  EXPECT_EQ(cps[0].index, 10u);
  EXPECT_EQ(cps[1].index, 20u);
  EXPECT_GT(cps[0].rate_after, cps[0].rate_before);
  EXPECT_LT(cps[1].rate_after, cps[1].rate_before);
}

TEST(Aggregator, CountsRatesProbesAndChangePoints) {
  Aggregator a;
  for (int d = 10; d < 30; ++d) {
    const std::string day = "2026-11-" + std::to_string(d);
    for (int i = 0; i < 3; ++i) {
      json m = vantage(day, "AS12345", d >= 20 ? "blocked" : "accessible", "0.1." + std::to_string(i));
      MeasurementKeys k{day, "IR", "AS12345", "Example ISP", "whatsapp", "vantage", m["software_version"]};
      a.add(k, score_recorded_verdict(m["test_keys"]["x_verdict"]));
    }
  }
  MeasurementKeys k{"2026-11-15", "IR", "AS1", "", "whatsapp", "ooniprobe", "3"};
  a.add(k, Score{});  // unscorable
  json out = a.to_json(Filters{}, "2026-12-01T00:00:00Z");
  EXPECT_EQ(out["totals"]["measurements"], 61);
  EXPECT_EQ(out["totals"]["unscorable"], 1);
  EXPECT_EQ(out["totals"]["scored"], 60);
  EXPECT_EQ(out["totals"]["probes"], 61);  // 3 versions x 20 days + 1
  EXPECT_EQ(out["totals"]["first_day"], "2026-11-10");
  json net;
  for (const auto& n : out["networks"])
    if (n["probe_asn"] == "AS12345" && n["feature"] == "") net = n;
  ASSERT_TRUE(net.is_object());
  EXPECT_EQ(net["measurements"], 60);
  EXPECT_EQ(net["counts"]["blocked"], 30);
  EXPECT_DOUBLE_EQ(net["blocking_rate"].get<double>(), 0.5);
  EXPECT_EQ(net["methods"]["dns"], 30);
  EXPECT_EQ(net["first_blocked"], "2026-11-20");
  EXPECT_EQ(net["last_seen"], "2026-11-29");
  json unscorable_net;
  for (const auto& n : out["networks"])
    if (n["probe_asn"] == "AS1") unscorable_net = n;
  EXPECT_TRUE(unscorable_net["blocking_rate"].is_null());
  ASSERT_EQ(out["change_points"].size(), 2u);  // service and messaging
  json cp = out["change_points"][0];
  EXPECT_EQ(cp["day"], "2026-11-20");
  EXPECT_EQ(cp["direction"], "blocked");
  EXPECT_EQ(cp["measurements"], 60);
  bool messaging_text = false;
  for (const auto& c : out["change_points"])
    messaging_text = messaging_text || c["text"] == "WhatsApp messaging blocked in AS12345 (IR) since 2026-11-20";
  EXPECT_TRUE(messaging_text);
  // Daily rows: a service row and a feature row per day and verdict.
  int rows = 0;
  for (const auto& r : out["daily"])
    if (r["day"] == "2026-11-20" && r["probe_asn"] == "AS12345") {
      ++rows;
      EXPECT_EQ(r["verdict"], "blocked");
      EXPECT_EQ(r["method"], "dns");
      EXPECT_EQ(r["measurements"], 3);
      EXPECT_EQ(r["probes"], 3);
    }
  EXPECT_EQ(rows, 2);
  std::string csv = Aggregator::daily_csv(out);
  EXPECT_EQ(csv.substr(0, csv.find("\r\n")), "day,probe_cc,probe_asn,probe_network_name,service,feature,verdict,method,measurements,probes");
  EXPECT_NE(Aggregator::networks_csv(out).find("IR,AS12345,Example ISP,whatsapp,,60,60,30,30,0,0,0,0,0.5,"), std::string::npos);
}

TEST(Filters, ValidateNamesTheBadFlag) {
  Filters f;
  f.since = "2026-13";
  EXPECT_NE(f.validate().find("since"), std::string::npos);
  f = Filters{};
  f.probe_asn = "12345";
  EXPECT_NE(f.validate().find("asn"), std::string::npos);
  f = Filters{};
  f.probe_cc = "ir";
  EXPECT_NE(f.validate().find("cc"), std::string::npos);
  f = Filters{};
  f.service = "x' OR 1=1";
  EXPECT_FALSE(f.validate().empty());
  EXPECT_EQ(Filters{}.validate(), "");
}

class IngestFiles : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("vantage-aggregate-" + std::to_string(getpid()));
    std::filesystem::create_directories(dir_ / "sub");
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::filesystem::path dir_;
};

TEST_F(IngestFiles, JsonLinesGzipDirectoriesMalformedLinesAndFilters) {
  {
    std::ofstream out(dir_ / "a.jsonl");
    out << vantage("2026-11-20", "AS1", "blocked").dump() << "\n\n";
    out << "{not json\n";
    out << "[1,2]\n";
    out << vantage("2026-11-21", "AS2", "accessible").dump() << "\r\n";
    out << vantage("2026-11-22", "AS1", "accessible").dump();  // no final newline
  }
  {
    std::ifstream ex(std::string(VANTAGE_SOURCE_DIR) + "/reports/format/tests/data/ooni-examples/signal-0.2.5.json");
    ASSERT_TRUE(ex.good());
    json ooni = json::parse(ex);
    gzFile gz = gzopen((dir_ / "b.jsonl.gz").c_str(), "wb");
    std::string line = ooni.dump() + "\n";
    gzwrite(gz, line.data(), static_cast<unsigned>(line.size()));
    gzclose(gz);
  }
  {
    // A subdirectory (the probe's spool/ holds copies) is not read.
    std::ofstream copy(dir_ / "sub" / "copy.jsonl");
    copy << vantage("2026-11-20", "AS1", "blocked").dump() << "\n";
  }
  IngestOptions o;
  Ingest all(o);
  ASSERT_EQ(all.add_input(dir_.string()), "");
  EXPECT_EQ(all.stats().measurements, 4u);
  EXPECT_EQ(all.stats().malformed, 2u);
  json a = all.aggregator().to_json(Filters{}, "t");
  EXPECT_EQ(a["totals"]["measurements"], 4);
  bool ooni_accessible = false;
  for (const auto& r : a["daily"])
    ooni_accessible = ooni_accessible || (r["service"] == "signal" && r["feature"] == "" && r["verdict"] == "accessible");
  EXPECT_TRUE(ooni_accessible);

  o.filters.probe_asn = "AS1";
  o.filters.since = "2026-11-21";
  Ingest filtered(o);
  ASSERT_EQ(filtered.add_input((dir_ / "a.jsonl").string()), "");
  EXPECT_EQ(filtered.stats().measurements, 1u);
  EXPECT_EQ(filtered.stats().filtered_out, 2u);

  Ingest missing(IngestOptions{});
  EXPECT_NE(missing.add_input((dir_ / "nope.jsonl").string()).find("no such file"), std::string::npos);
}

TEST_F(IngestFiles, RescoreAndRecordedAgreeAndIndexKeepsTheNewest) {
  {
    std::ofstream out(dir_ / "a.jsonl");
    for (int d = 10; d < 20; ++d) out << vantage("2026-11-" + std::to_string(d), "AS1", "blocked").dump() << "\n";
  }
  IngestOptions o;
  o.index_limit = 3;
  o.keep_bodies = true;
  Ingest ingest(o);
  ASSERT_EQ(ingest.add_input((dir_ / "a.jsonl").string()), "");
  json index = ingest.index().to_json();
  ASSERT_EQ(index.size(), 3u);
  EXPECT_EQ(index[0]["day"], "2026-11-19");
  EXPECT_EQ(index[2]["day"], "2026-11-17");
  EXPECT_EQ(index[0]["scoring_rule"], "vantage-verdict-recorded");
  EXPECT_EQ(index[0]["verdict"], "blocked");
  EXPECT_TRUE(is_valid_measurement_id(index[0]["id"].get<std::string>()));
  ASSERT_EQ(write_dashboard_data(dir_.string() + "/dash", ingest.aggregator().to_json(Filters{}, "t"), ingest.index()), "");
  std::ifstream m(dir_ / "dash" / "data" / "measurements" / (index[0]["id"].get<std::string>() + ".json"));
  json one = json::parse(m);
  EXPECT_EQ(one["x_analysis"]["service_verdict"], "blocked");
  EXPECT_EQ(one["test_name"], "whatsapp");
  std::ifstream agg(dir_ / "dash" / "data" / "aggregates.json");
  EXPECT_EQ(json::parse(agg)["totals"]["measurements"], 10);
}

// A file read by several threads (each its own range of whole lines, the
// cuts falling inside lines) gives what one thread reading it in order gives:
// the same aggregates, stats and index, first-seen network names included.
TEST_F(IngestFiles, ThreadsReadingRangesGiveTheSingleThreadResult) {
  {
    std::ofstream out(dir_ / "a.jsonl");
    const char* statuses[] = {"blocked", "accessible", "down", "inconclusive"};
    for (int i = 0; i < 400; ++i) {
      json m = vantage("2026-11-" + std::to_string(10 + i % 7), "AS" + std::to_string(1 + i % 5), statuses[i % 4],
                       "0.1." + std::to_string(i % 3));
      m["measurement_start_time"] = m["measurement_start_time"].get<std::string>().substr(0, 11) +
                                    (i % 2 ? "11:" : "10:") + std::to_string(10 + i % 50) + ":00";
      m["probe_network_name"] = i < 7 ? "" : "ISP " + std::to_string(i % 11);  // the first seen name wins
      if (i % 37 == 5) out << "{broken\n";
      out << m.dump() << "\n";
    }
  }
  auto read = [&](unsigned threads) {
    IngestOptions o;
    o.threads = threads;
    o.min_bytes_per_thread = 1000;
    o.index_limit = 25;
    Ingest ingest(o);
    EXPECT_EQ(ingest.add_input((dir_ / "a.jsonl").string()), "");
    const auto& s = ingest.stats();
    return json{{"aggregates", ingest.aggregator().to_json(Filters{}, "t")},
                {"index", ingest.index().to_json()},
                {"stats", {s.bytes, s.lines, s.measurements, s.malformed, s.filtered_out}}};
  };
  const json one = read(1);
  EXPECT_EQ(one["stats"][2], 400);
  EXPECT_EQ(one["stats"][3], 11);
  EXPECT_EQ(one["index"].size(), 25u);
  for (unsigned threads : {2u, 3u, 8u}) EXPECT_EQ(read(threads), one) << threads << " threads";
}

}  // namespace
}  // namespace vantage::analysis
