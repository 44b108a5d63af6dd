// Tests for whole-file reads: the bytes as they are, a bound that refuses a
// larger file, and the reason when the file cannot be read.
#include "reports/format/read_file.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

namespace vantage::format {
namespace {

namespace fs = std::filesystem;

fs::path scratch(const std::string& name, const std::string& data) {
  const fs::path path = fs::temp_directory_path() / ("vantage_read_file_" + std::to_string(getpid()) + "_" + name);
  std::ofstream(path, std::ios::binary) << data;
  return path;
}

TEST(ReadFile, ReadsEveryByte) {
  const std::string data("a\0b\r\n\xff", 6);
  const auto path = scratch("bytes", data);
  std::string out = "stale";
  EXPECT_EQ(read_file(path.string(), out), "");
  EXPECT_EQ(out, data);
  fs::remove(path);
}

TEST(ReadFile, RefusesALargerFileThanTheLimit) {
  const auto path = scratch("big", std::string(100, 'x'));
  std::string out;
  EXPECT_EQ(read_file(path.string(), out, 100), "");
  EXPECT_EQ(out.size(), 100u);
  EXPECT_EQ(read_file(path.string(), out, 99), "larger than 99 bytes");
  EXPECT_EQ(out, "");
  fs::remove(path);
}

TEST(ReadFile, NamesTheReasonForAMissingFile) {
  std::string out = "stale";
  EXPECT_EQ(read_file("/nonexistent/vantage/file", out), "cannot read: No such file or directory");
  EXPECT_EQ(out, "");
}

}  // namespace
}  // namespace vantage::format
