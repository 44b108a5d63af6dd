// The local results directory: one JSON Lines file per run
// (<dir>/<run id>.jsonl), each written atomically (temp file, fsync, rename)
// so a crash never leaves a half-written run. Reads them back for
// `vantage list` and `vantage show`. Never talks to the network.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

namespace vantage::cli {

// $XDG_DATA_HOME/vantage/results, else ~/.local/share/vantage/results.
std::string default_results_dir();

// Writes `lines` (one measurement each) to path atomically; creates parent
// directories. Returns "" or an error message naming the path.
std::string write_jsonl_atomically(const std::string& path, const std::vector<nlohmann::json>& lines);

struct StoredRun {
  std::string id;    // file name without .jsonl
  std::string path;
  std::vector<nlohmann::json> measurements;
  std::vector<std::string> errors;  // unreadable lines, by line number
};

std::vector<StoredRun> list_runs(const std::string& dir, std::string& error);
// ID is "<run id>" or "<run id>/<test_name>".
std::optional<StoredRun> find_run(const std::string& dir, const std::string& run_id, std::string& error);

}  // namespace vantage::cli
