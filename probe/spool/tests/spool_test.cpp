// The spool as a specification: states, durability across torn writes and
// kill -9, and what it refuses.
#include "probe/spool/spool.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <set>

namespace vantage::spool {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

class SpoolTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("spool_test_" + std::to_string(getpid()) + "_" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  Spool open() {
    std::string error;
    auto s = Spool::open(dir_.string(), error);
    EXPECT_TRUE(s) << error;
    return *s;
  }
  fs::path dir_;
};

json sample(int n) { return {{"test_name", "signal"}, {"n", n}, {"test_keys", json::object()}}; }

TEST_F(SpoolTest, AddedMeasurementsArePendingAndReadBack) {
  auto s = open();
  std::string a, b, error;
  ASSERT_EQ(s.add(sample(1), a), "");
  ASSERT_EQ(s.add(sample(2), b), "");
  EXPECT_NE(a, b);
  auto all = s.list(error);
  ASSERT_EQ(error, "");
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0].id, a);  // oldest first
  EXPECT_EQ(all[0].state, State::pending);
  auto m = s.load(b, error);
  ASSERT_TRUE(m) << error;
  EXPECT_EQ((*m)["n"], 2);
}

TEST_F(SpoolTest, StatesFollowTheLatestEventAndUploadedIsFinal) {
  auto s = open();
  std::string a, b, error;
  ASSERT_EQ(s.add(sample(1), a), "");
  ASSERT_EQ(s.add(sample(2), b), "");
  ASSERT_EQ(s.mark_failed(a, "connection_refused", 1234), "");
  ASSERT_EQ(s.mark_failed(a, "generic_timeout_error", 5678), "");
  ASSERT_EQ(s.mark_uploaded(b, "uid-b"), "");
  ASSERT_EQ(s.mark_failed(b, "late failure from a racing uploader"), "");
  auto all = s.list(error);
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0].state, State::failed);
  EXPECT_EQ(all[0].attempts, 2);
  EXPECT_EQ(all[0].error, "generic_timeout_error");
  EXPECT_EQ(all[0].next_attempt, 5678);
  EXPECT_EQ(all[1].state, State::uploaded);
  EXPECT_EQ(all[1].measurement_uid, "uid-b");
  auto pend = s.pending(error);
  ASSERT_EQ(pend.size(), 1u);
  EXPECT_EQ(pend[0].id, a);
  // Reopening reads the same state from disk.
  auto again = open();
  EXPECT_EQ(again.pending(error).size(), 1u);
}

TEST_F(SpoolTest, TornIndexLineIsIgnoredAndNextEventStartsAFreshLine) {
  auto s = open();
  std::string a, error;
  ASSERT_EQ(s.add(sample(1), a), "");
  {
    std::ofstream idx(dir_ / "index.jsonl", std::ios::app);
    idx << R"({"id":")" << a << R"(","state":"uplo)";  // kill -9 mid-append
  }
  auto all = s.list(error);
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(all[0].state, State::pending);
  ASSERT_EQ(s.mark_uploaded(a, "uid-a"), "");
  all = s.list(error);
  EXPECT_EQ(all[0].state, State::uploaded);
  EXPECT_EQ(all[0].measurement_uid, "uid-a");
}

// Issue 9 row 9: a line of the wrong shape ("state": 5) made every later
// `vantage upload --list` abort with an uncaught type_error.
TEST_F(SpoolTest, WrongTypesInTheIndexAreSkippedAndReported) {
  auto s = open();
  std::string a, b, error;
  ASSERT_EQ(s.add(sample(1), a), "");
  ASSERT_EQ(s.add(sample(2), b), "");
  {
    std::ofstream idx(dir_ / "index.jsonl", std::ios::app);
    idx << R"({"id":")" << a << R"(","state":5})" << "\n";
    idx << R"({"id":")" << a << R"(","state":"uploaded","uid":7})" << "\n";
    idx << R"({"id":")" << a << R"(","state":"failed","error":"x","next_attempt":"soon"})" << "\n";
    idx << R"({"id":42,"state":"uploaded"})" << "\n";
    idx << R"(["not","an","object"])" << "\n";
  }
  ASSERT_EQ(s.mark_uploaded(b, "uid-b"), "");
  std::vector<std::string> skipped;
  auto all = s.list(error, &skipped);
  ASSERT_EQ(error, "");
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0].state, State::pending);  // none of the bad lines changed it
  EXPECT_EQ(all[1].state, State::uploaded);
  ASSERT_EQ(skipped.size(), 5u);
  EXPECT_NE(skipped[0].find("state"), std::string::npos) << skipped[0];
  EXPECT_NE(skipped[0].find("line 3"), std::string::npos) << skipped[0];
}

TEST_F(SpoolTest, FilesArePrivate) {
  auto s = open();
  std::string a;
  ASSERT_EQ(s.add(sample(1), a), "");
  for (const fs::path& p : {dir_ / "index.jsonl", dir_ / "measurements" / (a + ".json")}) {
    const auto perms = fs::status(p).permissions();
    EXPECT_EQ(perms & (fs::perms::group_all | fs::perms::others_all), fs::perms::none) << p;
  }
}

TEST_F(SpoolTest, FileWithoutIndexLineIsPendingAndTempFilesAreNotMeasurements) {
  auto s = open();
  std::string error;
  ASSERT_EQ(write_file_atomically((dir_ / "measurements" / "20250101T000000Z-000001-0000abcd.json").string(),
                                  sample(7).dump()),
            "");
  std::ofstream(dir_ / "measurements" / ".x.json.tmp.1") << "{\"half";
  auto all = s.list(error);
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(all[0].state, State::pending);
}

TEST_F(SpoolTest, RefusesIdsThatAreNotSpoolIds) {
  auto s = open();
  std::string error;
  EXPECT_FALSE(s.load("../../etc/passwd", error));
  EXPECT_NE(error, "");
  EXPECT_NE(s.mark_uploaded("a/b", "x"), "");
}

TEST_F(SpoolTest, OpenFailsWithAMessageWhenTheDirectoryCannotBeCreated) {
  std::ofstream(dir_.string() + "_file") << "x";
  std::string error;
  EXPECT_FALSE(Spool::open(dir_.string() + "_file/spool", error));
  EXPECT_NE(error.find("cannot create spool directory"), std::string::npos);
  fs::remove(dir_.string() + "_file");
}

// A child adds measurements and reports each id it was given on a pipe;
// it is killed with SIGKILL mid-stream. Every acknowledged id must be in the
// spool and every measurement file must parse.
TEST_F(SpoolTest, KillNineWhileAddingLosesNothingAcknowledged) {
  for (int round = 0; round < 5; ++round) {
    int fds[2];
    ASSERT_EQ(pipe(fds), 0);
    pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      close(fds[0]);
      std::string error;
      auto s = Spool::open(dir_.string(), error);
      if (!s) _exit(3);
      for (int i = 0;; ++i) {
        std::string id;
        if (!s->add(sample(i), id).empty()) _exit(4);
        if (i % 2 == 0) s->mark_failed(id, "x");
        std::string line = id + "\n";
        if (write(fds[1], line.data(), line.size()) < 0) _exit(5);
      }
    }
    close(fds[1]);
    // Kill only once the child has acknowledged at least one add (fsync can
    // be slow on a busy disk), then at a different moment each round.
    std::set<std::string> acked;
    std::string buf;
    char c;
    while (acked.empty() && read(fds[0], &c, 1) == 1) {
      if (c == '\n') acked.insert(buf), buf.clear();
      else buf += c;
    }
    usleep(5000 + round * 7000);
    kill(pid, SIGKILL);
    int status = 0;
    waitpid(pid, &status, 0);
    while (read(fds[0], &c, 1) == 1) {
      if (c == '\n') acked.insert(buf), buf.clear();
      else buf += c;
    }
    close(fds[0]);
    auto s = open();
    std::string error;
    auto all = s.list(error);
    ASSERT_EQ(error, "");
    std::set<std::string> present;
    for (const auto& e : all) {
      present.insert(e.id);
      auto m = s.load(e.id, error);
      ASSERT_TRUE(m) << e.id << ": " << error;
    }
    for (const auto& id : acked) EXPECT_TRUE(present.count(id)) << "lost " << id;
    EXPECT_GT(acked.size(), 0u);
  }
}

}  // namespace
}  // namespace vantage::spool
