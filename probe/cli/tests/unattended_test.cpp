// Tests for the unattended run's log rotation and last-run record.
#include "probe/cli/unattended.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

namespace vantage::cli {
namespace {

namespace fs = std::filesystem;

std::string contents_of(const fs::path& p) {
  std::ifstream in(p);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

TEST(Unattended, LogRotatesBySizeKeepingAFew) {
  fs::path dir = fs::temp_directory_path() / ("vantage_unattended_test_" + std::to_string(getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  std::string log = (dir / "vantage.log").string();
  EXPECT_EQ(rotate_log(log, 10, 2), "");  // no log yet: nothing to do
  std::ofstream(log) << "small";
  EXPECT_EQ(rotate_log(log, 10, 2), "");
  EXPECT_EQ(contents_of(log), "small");  // under the limit: kept
  for (const char* gen : {"first-----", "second----", "third-----"}) {
    std::ofstream(log) << gen;
    EXPECT_EQ(rotate_log(log, 10, 2), "");
    EXPECT_FALSE(fs::exists(log));
  }
  EXPECT_EQ(contents_of(log + ".1"), "third-----");
  EXPECT_EQ(contents_of(log + ".2"), "second----");
  EXPECT_FALSE(fs::exists(log + ".3"));  // the oldest is gone
  fs::remove_all(dir);
}

TEST(Unattended, LastRunIsDescribed) {
  fs::path dir = fs::temp_directory_path() / ("vantage_unattended_last_" + std::to_string(getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  EXPECT_EQ(describe_last_run(dir.string()), "");
  std::ofstream(last_run_path(dir.string()))
      << R"({"started": "2026-12-01T22:00:00Z", "finished": "2026-12-01T22:00:20Z", "result": "ok", "exit_code": 0,
            "measurements": 3, "upload": "all uploaded", "pending_uploads": 0, "log": "/x/vantage.log"})";
  EXPECT_EQ(describe_last_run(dir.string()),
            "2026-12-01T22:00:00Z: ok (exit 0), finished 2026-12-01T22:00:20Z, 3 measurements, all uploaded, "
            "0 not uploaded; log: /x/vantage.log");
  fs::remove_all(dir);
}

}  // namespace
}  // namespace vantage::cli
