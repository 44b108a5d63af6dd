// Tests for the local results directory: atomic JSON Lines writes, reading
// runs back (with unreadable lines reported, not fatal), and errors that name
// the path. Each test works in its own temporary directory.
#include "probe/cli/results_store.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace vantage::cli {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

class TempDir {
 public:
  TempDir() {
    static std::atomic<int> counter{0};
    path_ = fs::temp_directory_path() /
            ("vantage_results_test_" + std::to_string(getpid()) + "_" + std::to_string(counter++));
    fs::remove_all(path_);
    fs::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  std::string path() const { return path_.string(); }
  std::string file(const std::string& name) const { return (path_ / name).string(); }
  void write(const std::string& name, const std::string& text) const {
    std::ofstream(path_ / name, std::ios::binary) << text;
  }

 private:
  fs::path path_;
};

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::vector<std::string> names_in(const std::string& dir) {
  std::vector<std::string> out;
  for (const auto& e : fs::directory_iterator(dir)) out.push_back(e.path().filename().string());
  std::sort(out.begin(), out.end());
  return out;
}

json measurement(const std::string& test, const std::string& status) {
  return {{"test_name", test}, {"test_keys", {{"x_verdict", {{"status", status}}}}}};
}

TEST(ResultsStore, AtomicWriteRoundTrip) {
  TempDir tmp;
  const std::string dir = tmp.file("results/nested");  // parents are created
  const std::string path = dir + "/20260101T000000Z.jsonl";
  std::vector<json> lines{measurement("whatsapp", "accessible"), measurement("signal", "blocked")};
  ASSERT_EQ(write_jsonl_atomically(path, lines), "");
  // One line per measurement, newline-terminated, no temp file left behind.
  EXPECT_EQ(slurp(path), lines[0].dump() + "\n" + lines[1].dump() + "\n");
  EXPECT_EQ(names_in(dir), std::vector<std::string>{"20260101T000000Z.jsonl"});

  std::string error;
  auto run = find_run(dir, "20260101T000000Z", error);
  ASSERT_TRUE(run.has_value()) << error;
  EXPECT_EQ(run->id, "20260101T000000Z");
  EXPECT_EQ(run->path, path);
  EXPECT_TRUE(run->errors.empty());
  ASSERT_EQ(run->measurements.size(), 2u);
  EXPECT_EQ(run->measurements[0], lines[0]);
  EXPECT_EQ(run->measurements[1], lines[1]);
}

TEST(ResultsStore, OverwriteReplacesTheWholeFile) {
  TempDir tmp;
  const std::string path = tmp.file("run.jsonl");
  ASSERT_EQ(write_jsonl_atomically(path, {measurement("a", "x"), measurement("b", "y"), measurement("c", "z")}), "");
  ASSERT_EQ(write_jsonl_atomically(path, {measurement("d", "w")}), "");
  EXPECT_EQ(slurp(path), measurement("d", "w").dump() + "\n");
  EXPECT_EQ(names_in(tmp.path()), std::vector<std::string>{"run.jsonl"});
}

TEST(ResultsStore, EmptyRunAndInvalidUtf8) {
  TempDir tmp;
  ASSERT_EQ(write_jsonl_atomically(tmp.file("empty.jsonl"), {}), "");
  EXPECT_EQ(slurp(tmp.file("empty.jsonl")), "");
  // A string that is not UTF-8 must not make the write throw.
  json bad{{"body", std::string("\xff\xfe", 2)}};
  std::string err;
  EXPECT_NO_THROW(err = write_jsonl_atomically(tmp.file("bin.jsonl"), {bad}));
  EXPECT_EQ(err, "");
  EXPECT_TRUE(json::parse(slurp(tmp.file("bin.jsonl")), nullptr, false).is_object());
}

TEST(ResultsStore, UnwritableDirectoryNamesThePath) {
  TempDir tmp;
  tmp.write("plainfile", "x");
  // Running as root makes permission bits moot; a path through a regular
  // file fails for everyone.
  const std::string path = tmp.file("plainfile/sub/run.jsonl");
  std::string err = write_jsonl_atomically(path, {measurement("a", "b")});
  ASSERT_FALSE(err.empty());
  EXPECT_NE(err.find(tmp.file("plainfile")), std::string::npos) << err;
  EXPECT_EQ(slurp(tmp.file("plainfile")), "x");
}

TEST(ResultsStore, TargetIsADirectory) {
  TempDir tmp;
  fs::create_directories(tmp.file("run.jsonl"));
  std::string err = write_jsonl_atomically(tmp.file("run.jsonl"), {measurement("a", "b")});
  ASSERT_FALSE(err.empty());
  EXPECT_NE(err.find(tmp.file("run.jsonl")), std::string::npos) << err;
  // The temp file was cleaned up.
  EXPECT_EQ(names_in(tmp.path()), std::vector<std::string>{"run.jsonl"});
}

TEST(ResultsStore, ListRunsSortedAndOnlyJsonl) {
  TempDir tmp;
  ASSERT_EQ(write_jsonl_atomically(tmp.file("20260102T000000Z.jsonl"), {measurement("signal", "blocked")}), "");
  ASSERT_EQ(write_jsonl_atomically(tmp.file("20260101T000000Z.jsonl"), {measurement("whatsapp", "accessible")}), "");
  tmp.write("notes.txt", "not a run");
  tmp.write("20260103T000000Z.jsonl.tmp.123", "partial");
  std::string error;
  auto runs = list_runs(tmp.path(), error);
  EXPECT_EQ(error, "");
  ASSERT_EQ(runs.size(), 2u);
  EXPECT_EQ(runs[0].id, "20260101T000000Z");
  EXPECT_EQ(runs[1].id, "20260102T000000Z");
  EXPECT_EQ(runs[1].measurements[0]["test_name"], "signal");
}

TEST(ResultsStore, ListRunsOfMissingDirIsEmpty) {
  TempDir tmp;
  std::string error;
  EXPECT_TRUE(list_runs(tmp.file("never-created"), error).empty());
  EXPECT_EQ(error, "");
}

TEST(ResultsStore, ListRunsOfAFileIsAnError) {
  TempDir tmp;
  tmp.write("file", "x");
  std::string error;
  EXPECT_TRUE(list_runs(tmp.file("file"), error).empty());
  EXPECT_NE(error.find(tmp.file("file")), std::string::npos) << error;
}

TEST(ResultsStore, UnreadableLinesAreReported) {
  TempDir tmp;
  tmp.write("run.jsonl", measurement("a", "x").dump() + "\n" +  // 1
                             "{\"truncated\": \n" +               // 2
                             "\n" +                               // 3: blank, skipped
                             "[1, 2]\n" +                         // 4: not an object
                             measurement("b", "y").dump() + "\n"  // 5
  );
  std::string error;
  auto run = find_run(tmp.path(), "run", error);
  ASSERT_TRUE(run.has_value()) << error;
  ASSERT_EQ(run->measurements.size(), 2u);
  EXPECT_EQ(run->measurements[1]["test_name"], "b");
  EXPECT_EQ(run->errors, (std::vector<std::string>{"line 2 is not a JSON object", "line 4 is not a JSON object"}));
}

TEST(ResultsStore, FindRunRejectsBadIds) {
  TempDir tmp;
  ASSERT_EQ(write_jsonl_atomically(tmp.file("run.jsonl"), {measurement("a", "x")}), "");
  for (const char* id : {"", "run/whatsapp", "../run", "/run", "sub/../run"}) {
    std::string error;
    EXPECT_FALSE(find_run(tmp.path(), id, error).has_value()) << id;
    EXPECT_NE(error.find("not a run id"), std::string::npos) << error;
  }
}

TEST(ResultsStore, FindRunMissing) {
  TempDir tmp;
  std::string error;
  EXPECT_FALSE(find_run(tmp.path(), "20990101T000000Z", error).has_value());
  EXPECT_NE(error.find("20990101T000000Z"), std::string::npos);
  EXPECT_NE(error.find(tmp.path()), std::string::npos);
}

TEST(ResultsStore, DefaultResultsDir) {
  const char* old_xdg = std::getenv("XDG_DATA_HOME");
  const char* old_home = std::getenv("HOME");
  std::string saved_xdg = old_xdg ? old_xdg : "", saved_home = old_home ? old_home : "";
  setenv("XDG_DATA_HOME", "/data/x", 1);
  EXPECT_EQ(default_results_dir(), "/data/x/vantage/results");
  setenv("XDG_DATA_HOME", "", 1);
  setenv("HOME", "/home/v", 1);
  EXPECT_EQ(default_results_dir(), "/home/v/.local/share/vantage/results");
  if (old_xdg) setenv("XDG_DATA_HOME", saved_xdg.c_str(), 1);
  else unsetenv("XDG_DATA_HOME");
  if (old_home) setenv("HOME", saved_home.c_str(), 1);
  else unsetenv("HOME");
}

}  // namespace
}  // namespace vantage::cli
