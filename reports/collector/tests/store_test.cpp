// The store contract (store.h) and the collector's protocol logic
// (collector.h), run against every store: SQLite always, ClickHouse when a
// server answers at $VANTAGE_CLICKHOUSE_URL (default clickhouse://127.0.0.1:8123;
// ci/start-clickhouse.sh starts one), otherwise those cases are skipped with
// a message saying so.
#include <curl/curl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <regex>
#include <set>
#include <thread>

#include "reports/collector/collector.h"
#include "reports/collector/store.h"

namespace vantage::collector {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

std::string clickhouse_base() {
  const char* env = std::getenv("VANTAGE_CLICKHOUSE_URL");
  return env && *env ? env : "clickhouse://127.0.0.1:8123";
}

// Opens a ClickHouse store; on a server that cannot fsync inserts (which the
// store refuses by default) with ?unsynced=1, saying so in `synced`.
std::unique_ptr<Store> open_clickhouse(const std::string& database, std::string& error, bool* synced = nullptr) {
  auto store = open_store(clickhouse_base() + "/" + database, error);
  if (synced) *synced = store != nullptr;
  if (!store && error.find("cannot fsync inserts") != std::string::npos) {
    error.clear();
    store = open_store(clickhouse_base() + "/" + database + "?unsynced=1", error);
  }
  return store;
}

class StoreTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    const std::string unique = std::to_string(getpid()) + "_" +
                               std::to_string(::testing::UnitTest::GetInstance()->random_seed()) + "_" +
                               ::testing::UnitTest::GetInstance()->current_test_info()->name();
    std::string safe;
    for (char c : unique) safe += std::isalnum(static_cast<unsigned char>(c)) ? c : '_';
    std::string error;
    if (GetParam() == "sqlite") {
      path_ = (fs::temp_directory_path() / ("store_test_" + safe + ".sqlite")).string();
      store_ = open_store("sqlite:" + path_, error);
      ASSERT_TRUE(store_) << error;
    } else {
      database_ = "vantage_test_" + safe;
      store_ = open_clickhouse(database_, error);
      if (!store_) GTEST_SKIP() << "ClickHouse not reachable at " << clickhouse_base()
                                << " (run ci/start-clickhouse.sh): " << error;
    }
  }
  void TearDown() override {
    if (store_ && !database_.empty()) drop_database();
    store_.reset();
    if (!path_.empty()) {
      for (const char* suffix : {"", "-wal", "-shm"}) fs::remove(path_ + suffix);
    }
  }
  // Test databases are dropped so repeated runs do not pile them up.
  void drop_database() {
    std::string base = clickhouse_base().substr(std::string("clickhouse://").size());
    CURL* curl = curl_easy_init();
    const std::string url = "http://" + base + "/";
    const std::string sql = "DROP DATABASE IF EXISTS " + database_;
    curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, sql.c_str());
    curl_easy_setopt(curl, CURLOPT_NOPROXY, "*");
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, +[](char*, std::size_t s, std::size_t n, void*) { return s * n; });
    EXPECT_EQ(curl_easy_perform(curl), CURLE_OK);
    curl_easy_cleanup(curl);
  }
  std::unique_ptr<Store> store_;
  std::string path_;
  std::string database_;
};

json open_body(const std::string& test = "signal", const std::string& cc = "IT", const std::string& asn = "AS30722") {
  return {{"data_format_version", "0.2.0"}, {"format", "json"}, {"probe_asn", asn}, {"probe_cc", cc},
          {"software_name", "vantage"}, {"software_version", "0.1.0"}, {"test_name", test},
          {"test_start_time", "2025-03-01 10:00:00"}, {"test_version", "0.1.0"}};
}

json measurement(int n, const std::string& test = "signal", const std::string& cc = "IT",
                 const std::string& asn = "AS30722") {
  return {{"data_format_version", "0.2.0"}, {"measurement_start_time", "2025-03-01 10:00:01"},
          {"test_start_time", "2025-03-01 10:00:00"}, {"probe_asn", asn}, {"probe_cc", cc},
          {"probe_ip", "127.0.0.1"}, {"software_name", "vantage"}, {"software_version", "0.1.0"},
          {"test_name", test}, {"test_version", "0.1.0"}, {"test_runtime", 1.5}, {"input", nullptr},
          {"annotations", {{"platform", "linux"}}}, {"test_keys", {{"n", n}, {"signal_backend_status", "ok"}}}};
}

std::string submit_body(const json& content) { return json{{"format", "json"}, {"content", content}}.dump(); }

TEST_P(StoreTest, OpensReportsStoresMeasurementsAndQueriesThem) {
  Collector col(*store_, {});
  auto opened = col.open_report(open_body().dump());
  ASSERT_EQ(opened.http_status, 200) << opened.body;
  const std::string id = opened.body["report_id"];
  EXPECT_TRUE(std::regex_match(id, std::regex(R"(\d{8}T\d{6}Z_signal_IT_30722_n1_[A-Za-z0-9]{40})"))) << id;
  EXPECT_EQ(opened.body["supported_formats"], json::array({"json"}));
  std::set<std::string> uids;
  for (int i = 0; i < 5; ++i) {
    auto r = col.submit_measurement(id, submit_body(measurement(i)));
    ASSERT_EQ(r.http_status, 200) << r.body;
    const std::string uid = r.body["measurement_uid"];
    EXPECT_TRUE(std::regex_match(uid, std::regex(R"(\d{14}\.\d{6}_IT_signal_[0-9a-f]{16})"))) << uid;
    uids.insert(uid);
  }
  EXPECT_EQ(uids.size(), 5u);
  std::string error;
  MeasurementQuery q;
  q.report_id = id;
  EXPECT_EQ(store_->count(q, error), 5);
  auto rows = store_->query(q, error);
  ASSERT_EQ(error, "");
  ASSERT_EQ(rows.size(), 5u);
  for (const auto& row : rows) {
    EXPECT_TRUE(uids.count(row.measurement_uid));
    json body = json::parse(row.body);
    EXPECT_EQ(body["report_id"], id);  // the stored measurement carries its report
    EXPECT_EQ(row.probe_cc, "IT");
    EXPECT_EQ(row.body_sha512.size(), 128u);
  }
  q.probe_cc = "RU";
  EXPECT_EQ(store_->count(q, error), 0);
  EXPECT_EQ(col.close_report(id).http_status, 200);
  auto report = store_->find_report(id, error);
  ASSERT_TRUE(report) << error;
  EXPECT_GT(report->closed, 0);
  EXPECT_TRUE(store_->healthy(error)) << error;
}

TEST_P(StoreTest, ResubmissionIsIdempotentEvenUnderAnotherReport) {
  Collector col(*store_, {});
  const std::string a = col.open_report(open_body().dump()).body["report_id"];
  const std::string b = col.open_report(open_body().dump()).body["report_id"];
  json m = measurement(1);
  auto first = col.submit_measurement(a, submit_body(m));
  ASSERT_EQ(first.http_status, 200) << first.body;
  auto again = col.submit_measurement(a, submit_body(m));
  ASSERT_EQ(again.http_status, 200) << again.body;
  EXPECT_EQ(again.body["measurement_uid"], first.body["measurement_uid"]);
  EXPECT_EQ(again.body.value("x_duplicate", false), true);
  m["report_id"] = b;  // a retry after the probe reopened a report
  auto other = col.submit_measurement(b, submit_body(m));
  ASSERT_EQ(other.http_status, 200) << other.body;
  EXPECT_EQ(other.body["measurement_uid"], first.body["measurement_uid"]);
  std::string error;
  EXPECT_EQ(store_->count({}, error), 1) << error;
}

TEST_P(StoreTest, RejectsInvalidAndInconsistentMeasurementsWithReasons) {
  Collector col(*store_, {});
  const std::string id = col.open_report(open_body().dump()).body["report_id"];
  struct Case {
    std::string body;
    int status;
    std::string reason;
  };
  json wrong_cc = measurement(1, "signal", "RU");
  json wrong_test = measurement(1, "whatsapp");
  json wrong_report = measurement(1);
  wrong_report["report_id"] = "20250101T000000Z_signal_IT_30722_n1_other";
  json real_ip = measurement(1);
  real_ip["probe_ip"] = "203.0.113.7";
  json no_keys = measurement(1);
  no_keys.erase("test_keys");
  const std::vector<Case> cases = {
      {"not json", 400, "not JSON"},
      {"[1,2]", 400, "not a JSON object"},
      {R"({"format":"json"})", 400, "content"},
      {R"({"format":"yaml","content":{}})", 400, "format"},
      {submit_body(wrong_cc), 400, "probe_cc"},
      {submit_body(wrong_test), 400, "test_name"},
      {submit_body(wrong_report), 400, "report_id"},
      {submit_body(real_ip), 400, "/probe_ip"},
      {submit_body(no_keys), 400, "test_keys"},
  };
  for (const auto& c : cases) {
    auto r = col.submit_measurement(id, c.body);
    EXPECT_EQ(r.http_status, c.status) << c.body;
    EXPECT_NE(r.body.value("error", "").find(c.reason), std::string::npos) << r.body << " for " << c.body;
  }
  EXPECT_EQ(col.submit_measurement("20250101T000000Z_signal_IT_30722_n1_nosuch", submit_body(measurement(1))).http_status,
            404);
  EXPECT_EQ(col.submit_measurement("../etc", submit_body(measurement(1))).http_status, 400);
  auto bad_open = open_body();
  bad_open["probe_cc"] = "Italy";
  EXPECT_EQ(col.open_report(bad_open.dump()).http_status, 400);
  EXPECT_EQ(col.close_report("20250101T000000Z_signal_IT_30722_n1_nosuch").http_status, 404);
  std::string error;
  EXPECT_EQ(store_->count({}, error), 0) << error;
}

INSTANTIATE_TEST_SUITE_P(Stores, StoreTest, ::testing::Values("sqlite", "clickhouse"),
                         [](const auto& info) { return info.param; });

TEST(CollectorIds, KeyIgnoresReportIdAndKeyOrder) {
  json a = json::parse(R"({"b":1,"a":{"y":2,"x":1},"report_id":"r1"})");
  json b = json::parse(R"({"a":{"x":1,"y":2},"report_id":"r2","b":1})");
  EXPECT_EQ(measurement_key(a), measurement_key(b));
  b["b"] = 2;
  EXPECT_NE(measurement_key(a), measurement_key(b));
  EXPECT_EQ(make_report_id(0, "web_connectivity", "IT", "AS123", "1", "abc"),
            "19700101T000000Z_webconnectivity_IT_123_n1_abc");
  EXPECT_EQ(make_measurement_uid(1500000, "IT", "signal", std::string(128, 'f')),
            "19700101000001.500000_IT_signal_ffffffffffffffff");
  // A start time past 2262 (the fuzzer's find: making a nanosecond
  // time_point of it overflowed, undefined behaviour under UBSan).
  const std::string key(128, '0');
  EXPECT_EQ(make_measurement_uid(uid_time_micros("4050-03-01 10:00:00", key), "IT", "signal", key),
            "40500301100000.000000_IT_signal_0000000000000000");
  EXPECT_EQ(make_measurement_uid(uid_time_micros("9999-12-31 23:59:59", key), "IT", "signal", key),
            "99991231235959.000000_IT_signal_0000000000000000");
}

TEST(StoreUrl, RejectsUnknownSchemesAndBadClickHouseUrls) {
  std::string error;
  EXPECT_FALSE(open_store("postgres://x", error));
  EXPECT_NE(error.find("unknown scheme"), std::string::npos);
  error.clear();
  EXPECT_FALSE(open_store("clickhouse://127.0.0.1:99999/db", error));
  EXPECT_NE(error, "");
  error.clear();
  EXPECT_FALSE(open_store("clickhouse://127.0.0.1:8123/bad-name", error));
  EXPECT_NE(error.find("database name"), std::string::npos);
  error.clear();
  EXPECT_FALSE(open_store("sqlite:/nonexistent-dir/x/y.sqlite", error));
  EXPECT_NE(error.find("sqlite"), std::string::npos);
}


// Issue 9 scale-out: two collectors (each with its own store connection and
// its own insert lock, as two processes would have) on one ClickHouse, the
// same submissions sent to both at once. Every measurement is stored once,
// both acknowledge the same UID, and every acknowledged UID can be read back.
// Also: the tables fsync every insert before ClickHouse acknowledges it.
TEST(ClickHouseScaleOut, TwoCollectorsStayIdempotentAndInsertsAreFsynced) {
  const std::string database = "vantage_test_scaleout_" + std::to_string(getpid());
  std::string error;
  bool synced = false;
  auto store_a = open_clickhouse(database, error, &synced);
  if (!store_a) GTEST_SKIP() << "ClickHouse not reachable at " << clickhouse_base() << ": " << error;
  auto store_b = open_clickhouse(database, error);
  ASSERT_TRUE(store_b) << error;
  Collector a(*store_a, {}), b(*store_b, {});
  const std::string report_a = a.open_report(open_body().dump()).body["report_id"];
  const std::string report_b = b.open_report(open_body().dump()).body["report_id"];
  constexpr int kCount = 20;
  std::vector<std::string> uid_a(kCount), uid_b(kCount);
  std::thread ta([&] {
    for (int i = 0; i < kCount; ++i) uid_a[i] = a.submit_measurement(report_a, submit_body(measurement(i))).body.value("measurement_uid", "");
  });
  std::thread tb([&] {
    for (int i = 0; i < kCount; ++i) uid_b[i] = b.submit_measurement(report_b, submit_body(measurement(i))).body.value("measurement_uid", "");
  });
  ta.join();
  tb.join();
  MeasurementQuery q;
  q.limit = 1000;
  EXPECT_EQ(store_a->count(q, error), kCount) << error;
  std::set<std::string> stored;
  for (const auto& row : store_a->query(q, error)) stored.insert(row.measurement_uid);
  EXPECT_EQ(stored.size(), static_cast<std::size_t>(kCount));
  for (int i = 0; i < kCount; ++i) {
    EXPECT_FALSE(uid_a[i].empty());
    EXPECT_EQ(uid_a[i], uid_b[i]) << i;
    EXPECT_TRUE(stored.count(uid_a[i])) << uid_a[i];
  }
  // Durability settings on the tables.
  CURL* curl = curl_easy_init();
  const std::string url = "http://" + clickhouse_base().substr(std::string("clickhouse://").size()) + "/";
  std::string out;
  const std::string sql = "SELECT engine_full FROM system.tables WHERE database = '" + database + "' FORMAT TSV";
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_POSTFIELDS, sql.c_str());
  curl_easy_setopt(curl, CURLOPT_NOPROXY, "*");
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &out);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, +[](char* p, std::size_t s, std::size_t n, void* o) {
    static_cast<std::string*>(o)->append(p, s * n);
    return s * n;
  });
  EXPECT_EQ(curl_easy_perform(curl), CURLE_OK);
  const std::string drop = "DROP DATABASE IF EXISTS " + database;
  curl_easy_setopt(curl, CURLOPT_POSTFIELDS, drop.c_str());
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, +[](char*, std::size_t s, std::size_t n, void*) { return s * n; });
  EXPECT_EQ(curl_easy_perform(curl), CURLE_OK);
  curl_easy_cleanup(curl);
  std::size_t tables = 0;
  for (std::size_t pos = 0; (pos = out.find("fsync_after_insert = 1", pos)) != std::string::npos; ++pos) ++tables;
  // A server that cannot fsync was refused without ?unsynced=1 (open_clickhouse).
  if (synced) EXPECT_EQ(tables, 2u) << out;
  else std::cout << "note: this ClickHouse cannot fsync inserts; the store refused it without ?unsynced=1\n";
}

}  // namespace
}  // namespace vantage::collector
