// Runs that nobody watches, and the lock every run takes.
//
// Every `vantage run` holds an exclusive flock on <data dir>/.run.lock, so
// two runs never measure at once (they would disturb each other's timing
// and double the load). `vantage run --unattended` (what the schedule
// starts) in addition:
//  - exits 0 quietly, with a note in the log, when another run holds the lock;
//  - writes everything to <data dir>/logs/vantage.log (rotated by size:
//    vantage.log.1 ... .N) instead of the terminal, and prints nothing when
//    nothing is wrong; on a failure one line on stderr points to the log
//    (cron mails it, systemd's journal keeps it);
//  - stops at a maximum run time: the measuring deadline is shortened to
//    leave time for the upload, and past the maximum the process leaves
//    (exit 124) whatever it is doing;
//  - records when it ran and how it ended in <data dir>/last-run.json, for
//    `vantage schedule status`.
#pragma once

#include <cstddef>
#include <string>

#include "probe/cli/run_command.h"

namespace vantage::cli {

struct UnattendedOptions {
  double max_runtime = 1800;        // seconds
  std::size_t log_max_bytes = 1 << 20;
  int log_keep = 3;                 // rotated files kept besides the current one
};

inline constexpr int kExitTimedOut = 124;

std::string lock_path(const std::string& data_dir);       // <dir>/.run.lock
std::string log_path(const std::string& data_dir);        // <dir>/logs/vantage.log
std::string last_run_path(const std::string& data_dir);   // <dir>/last-run.json

// Rotates `path` when it is at least `max_bytes` long: path.(keep-1) ->
// path.keep, ..., path -> path.1 (the oldest beyond `keep` is deleted).
// Returns "" or the error.
std::string rotate_log(const std::string& path, std::size_t max_bytes, int keep);

// `vantage run` (interactive): takes the lock, then measures. A held lock
// is an error (exit 1) naming it.
int run_exclusive(const RunOptions& options);
// `vantage run --unattended`.
int run_unattended(RunOptions options, const UnattendedOptions& unattended);

// The last unattended run, for `schedule status`: one line, or "" if none.
std::string describe_last_run(const std::string& data_dir);

}  // namespace vantage::cli
