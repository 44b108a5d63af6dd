// libFuzzer target: the spool index reader. The input is index.jsonl; one
// measurement file exists. Spool::list must never throw or crash, and the
// entry's state must be one of the three.
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "probe/spool/spool.h"

using namespace vantage::spool;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const std::string dir = [] {
    const auto d = std::filesystem::temp_directory_path() / ("fuzz_spool_" + std::to_string(getpid()));
    std::filesystem::create_directories(d / "measurements");
    std::ofstream(d / "measurements" / "20250101T000000Z-000001-0000abcd.json") << "{}\n";
    return d.string();
  }();
  {
    std::ofstream index(dir + "/index.jsonl", std::ios::binary | std::ios::trunc);
    index.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
  }
  std::string error;
  auto spool = Spool::open(dir, error);
  if (!spool) std::abort();
  std::vector<std::string> skipped;
  try {
    const auto entries = spool->list(error, &skipped);
    if (entries.size() != 1) std::abort();
    const State s = entries[0].state;
    if (s != State::pending && s != State::uploaded && s != State::failed) std::abort();
  } catch (...) {
    std::abort();  // the reader promises never to throw
  }
  return 0;
}
