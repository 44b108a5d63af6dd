// Local results directory. See results_store.h.
#include "probe/cli/results_store.h"

#include "reports/format/atomic_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>

namespace vantage::cli {

namespace fs = std::filesystem;

std::string default_results_dir() {
  if (const char* x = std::getenv("XDG_DATA_HOME"); x && *x) return std::string(x) + "/vantage/results";
  if (const char* h = std::getenv("HOME"); h && *h) return std::string(h) + "/.local/share/vantage/results";
  return "vantage-results";
}

std::string write_jsonl_atomically(const std::string& path, const std::vector<nlohmann::json>& lines) {
  std::error_code ec;
  fs::path target(path);
  if (target.has_parent_path()) fs::create_directories(target.parent_path(), ec);
  if (ec) return "cannot create directory " + target.parent_path().string() + ": " + ec.message();
  std::string data;
  for (const auto& l : lines) {
    data += l.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    data += '\n';
  }
  return format::write_file_atomically(path, data, 0600);
}

namespace {

StoredRun read_run(const fs::path& p) {
  StoredRun run;
  run.id = p.stem().string();
  run.path = p.string();
  std::ifstream in(p);
  std::string line;
  int n = 0;
  while (std::getline(in, line)) {
    ++n;
    if (line.empty()) continue;
    auto j = nlohmann::json::parse(line, nullptr, false);
    if (j.is_discarded() || !j.is_object()) {
      run.errors.push_back("line " + std::to_string(n) + " is not a JSON object");
    } else if (!j.value("test_name", nlohmann::json()).is_string() ||
               !j.value("test_keys", nlohmann::json()).is_object() ||
               !j["test_keys"].value("x_verdict", nlohmann::json()).is_object()) {
      // What list/show read must have the right shape; anything else is
      // reported, not trusted.
      run.errors.push_back("line " + std::to_string(n) + " is not a Vantage measurement (test_name, test_keys.x_verdict)");
    } else {
      run.measurements.push_back(std::move(j));
    }
  }
  return run;
}

}  // namespace

std::vector<StoredRun> list_runs(const std::string& dir, std::string& error) {
  std::vector<StoredRun> runs;
  std::error_code ec;
  if (!fs::exists(dir, ec)) return runs;
  std::vector<fs::path> files;
  for (const auto& e : fs::directory_iterator(dir, ec))
    if (e.path().extension() == ".jsonl") files.push_back(e.path());
  if (ec) error = "cannot read " + dir + ": " + ec.message();
  std::sort(files.begin(), files.end());
  for (const auto& f : files) runs.push_back(read_run(f));
  return runs;
}

std::optional<StoredRun> find_run(const std::string& dir, const std::string& run_id, std::string& error) {
  if (run_id.find('/') != std::string::npos || run_id.empty()) {
    error = "not a run id: \"" + run_id + "\"";
    return std::nullopt;
  }
  fs::path p = fs::path(dir) / (run_id + ".jsonl");
  std::error_code ec;
  if (!fs::exists(p, ec)) {
    error = "no run \"" + run_id + "\" in " + dir + " (see `vantage list`)";
    return std::nullopt;
  }
  return read_run(p);
}

}  // namespace vantage::cli
