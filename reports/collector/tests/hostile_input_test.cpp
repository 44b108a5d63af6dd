// The collector's protocol logic against inputs built to crash it (issue 9,
// rows 1 and 2): patterns on huge strings (std::regex recursed per
// character), documents nested tens of thousands deep (recursive copy and
// dump). Each must be a 400 with a short reason, and the collector must go
// on accepting real measurements.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "reports/collector/collector.h"
#include "reports/collector/store.h"
#include "reports/format/json_limits.h"

namespace vantage::collector {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

json open_body() {
  return {{"data_format_version", "0.2.0"}, {"format", "json"}, {"probe_asn", "AS30722"}, {"probe_cc", "IT"},
          {"software_name", "vantage"}, {"software_version", "0.1.0"}, {"test_name", "signal"},
          {"test_start_time", "2025-03-01 10:00:00"}, {"test_version", "0.1.0"}};
}

json measurement(int n) {
  return {{"data_format_version", "0.2.0"}, {"measurement_start_time", "2025-03-01 10:00:01"},
          {"test_start_time", "2025-03-01 10:00:00"}, {"probe_asn", "AS30722"}, {"probe_cc", "IT"},
          {"probe_ip", "127.0.0.1"}, {"software_name", "vantage"}, {"software_version", "0.1.0"},
          {"test_name", "signal"}, {"test_version", "0.1.0"}, {"test_runtime", 1.5}, {"input", nullptr},
          {"annotations", {{"platform", "linux"}}}, {"test_keys", {{"n", n}}}};
}

std::string submit_body(const json& content) { return json{{"format", "json"}, {"content", content}}.dump(); }

class HostileInput : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = (fs::temp_directory_path() / ("hostile_" + std::to_string(getpid()) + ".sqlite")).string();
    std::string error;
    store_ = open_store("sqlite:" + path_, error);
    ASSERT_TRUE(store_) << error;
    col_ = std::make_unique<Collector>(*store_, CollectorOptions{});
    auto opened = col_->open_report(open_body().dump());
    ASSERT_EQ(opened.http_status, 200) << opened.body;
    id_ = opened.body["report_id"];
  }
  void TearDown() override {
    col_.reset();
    store_.reset();
    for (const char* suffix : {"", "-wal", "-shm"}) fs::remove(path_ + suffix);
  }
  // After every attack: a real measurement is still accepted.
  void still_accepts(int n) {
    auto r = col_->submit_measurement(id_, submit_body(measurement(n)));
    EXPECT_EQ(r.http_status, 200) << r.body;
  }
  std::string path_, id_;
  std::unique_ptr<Store> store_;
  std::unique_ptr<Collector> col_;
};

// Row 1: "1"x50000 + ".1.1" as test_version, on open and on submit.
TEST_F(HostileInput, HugeVersionStringsAreRefusedShortly) {
  json open = open_body();
  open["test_version"] = std::string(50000, '1') + ".1.1";
  auto r = col_->open_report(open.dump());
  EXPECT_EQ(r.http_status, 400);
  EXPECT_LT(r.body.dump().size(), 400u) << "the reply must not echo the value";
  json m = measurement(1);
  m["test_version"] = "1.1.1-" + std::string(30000, 'a');
  r = col_->submit_measurement(id_, submit_body(m));
  EXPECT_EQ(r.http_status, 400);
  EXPECT_LT(r.body.dump().size(), 400u);
  // Every patterned field, at a length a backtracking matcher dies on.
  for (const char* field : {"probe_cc", "probe_asn", "software_name", "software_version", "test_name",
                            "measurement_start_time", "test_start_time"}) {
    json bad = measurement(2);
    bad[field] = std::string(200000, 'A');
    r = col_->submit_measurement(id_, submit_body(bad));
    EXPECT_EQ(r.http_status, 400) << field;
    EXPECT_LT(r.body.dump().size(), 600u) << field << ": " << r.body.dump().substr(0, 200);
  }
  still_accepts(3);
}

// Row 2: test_keys nesting 80,000 arrays or 60,000 objects.
TEST_F(HostileInput, DeepNestingIsRefusedWhileParsing) {
  const std::string head = R"({"format":"json","content":)";
  json m = measurement(4);
  std::string base = m.dump();
  base.erase(base.size() - 1);  // drop the closing brace, add a deep test_keys2
  std::string arrays = base + R"(,"x_deep":)" + std::string(80000, '[') + std::string(80000, ']') + "}";
  auto r = col_->submit_measurement(id_, head + arrays + "}");
  EXPECT_EQ(r.http_status, 400) << r.body;
  EXPECT_NE(r.body.dump().find("nested deeper"), std::string::npos) << r.body;
  std::string objects = base + R"(,"x_deep":)";
  for (int i = 0; i < 60000; ++i) objects += R"({"a":)";
  objects += "1" + std::string(60000, '}') + "}";
  r = col_->submit_measurement(id_, head + objects + "}");
  EXPECT_EQ(r.http_status, 400) << r.body;
  still_accepts(5);
}

// The key is the same bytes as before the iterative rewrite, so measurements
// stored by older collectors are still recognised as duplicates.
TEST(MeasurementKey, SameAsCopyEraseDump) {
  json m = measurement(7);
  m["report_id"] = "r1";
  m["test_keys"]["list"] = {1, 2.5, "é\x01", nullptr, json::object(), json::array(), {{"b", true}, {"a", false}}};
  json copy = m;
  copy.erase("report_id");
  EXPECT_EQ(measurement_key(m), sha512_hex(copy.dump(-1, ' ', false, json::error_handler_t::replace)));
  EXPECT_EQ(format::dump_iterative(m), m.dump(-1, ' ', false, json::error_handler_t::replace));
  json bad_utf8 = std::string("a\xff" "b");
  EXPECT_EQ(format::dump_iterative(bad_utf8), bad_utf8.dump(-1, ' ', false, json::error_handler_t::replace));
}

TEST(JsonLimits, DepthLimitAndPrefix) {
  std::string error;
  EXPECT_FALSE(format::parse_json_limited(std::string(64, '[') + std::string(64, ']'), 64, error).is_discarded())
      << error;
  error.clear();
  EXPECT_TRUE(format::parse_json_limited(std::string(65, '[') + std::string(65, ']'), 64, error).is_discarded());
  EXPECT_NE(error.find("deeper"), std::string::npos);
  error.clear();
  EXPECT_TRUE(format::parse_json_limited("{nope", 64, error).is_discarded());
  EXPECT_EQ(error, "body is not JSON");
  EXPECT_EQ(format::quote_prefix("abc"), "\"abc\"");
  EXPECT_EQ(format::quote_prefix(std::string(1000, 'x'), 4), "\"xxxx...\" (1000 bytes)");
}

}  // namespace
}  // namespace vantage::collector
