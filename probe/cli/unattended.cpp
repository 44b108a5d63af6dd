// Unattended runs and the run lock. See unattended.h.
#include "probe/cli/unattended.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>

#include "probe/cli/results_store.h"
#include "probe/spool/spool.h"
#include "reports/format/utc_time.h"

namespace vantage::cli {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

std::string now_utc() { return format::utc_time(std::chrono::system_clock::now(), "%Y-%m-%dT%H:%M:%SZ"); }

constexpr int kLockBusy = -2;

// Takes the run lock: its fd, kLockBusy when another run holds it, -1 on
// any other error (all with `error` set).
int take_lock(const std::string& data_dir, std::string& error) {
  std::error_code ec;
  fs::create_directories(data_dir, ec);
  if (ec) {
    error = "cannot create " + data_dir + ": " + ec.message();
    return -1;
  }
  int fd = ::open(lock_path(data_dir).c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) {
    error = "cannot open " + lock_path(data_dir) + ": " + std::strerror(errno);
    return -1;
  }
  if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
    int e = errno;
    ::close(fd);
    error = e == EWOULDBLOCK ? "another vantage run is in progress (it holds " + lock_path(data_dir) + ")"
                             : "cannot lock " + lock_path(data_dir) + ": " + std::strerror(e);
    return e == EWOULDBLOCK ? kLockBusy : -1;
  }
  return fd;  // held until the process ends
}

void write_all(int fd, const std::string& s) {
  size_t off = 0;
  while (off < s.size()) {
    ssize_t n = ::write(fd, s.data() + off, s.size() - off);
    if (n <= 0) return;
    off += static_cast<size_t>(n);
  }
}

void log_line(int fd, const std::string& what) { write_all(fd, now_utc() + " vantage[" + std::to_string(getpid()) + "]: " + what + "\n"); }

void write_state(const std::string& data_dir, const json& state) {
  std::string path = last_run_path(data_dir), tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << state.dump(2) << "\n";
    if (!out.flush()) return;
  }
  std::error_code ec;
  fs::rename(tmp, path, ec);
}

int pending_uploads(const std::string& data_dir) {
  std::string error;
  auto spool = spool::Spool::open(spool::spool_dir_for(data_dir), error);
  if (!spool) return -1;
  int pending = 0;
  for (const auto& e : spool->list(error)) pending += e.state != spool::State::uploaded;
  return pending;
}

}  // namespace

std::string lock_path(const std::string& d) { return d + "/.run.lock"; }
std::string log_path(const std::string& d) { return d + "/logs/vantage.log"; }
std::string last_run_path(const std::string& d) { return d + "/last-run.json"; }

std::string rotate_log(const std::string& path, std::size_t max_bytes, int keep) {
  std::error_code ec;
  auto size = fs::file_size(path, ec);
  if (ec || size < max_bytes) return "";
  fs::remove(path + "." + std::to_string(keep), ec);
  for (int i = keep - 1; i >= 1; --i) {
    std::string from = path + "." + std::to_string(i);
    if (fs::exists(from, ec)) fs::rename(from, path + "." + std::to_string(i + 1), ec);
    if (ec) return "cannot rotate " + from + ": " + ec.message();
  }
  if (keep >= 1) fs::rename(path, path + ".1", ec);
  else fs::remove(path, ec);
  if (ec) return "cannot rotate " + path + ": " + ec.message();
  return "";
}

int run_exclusive(const RunOptions& o) {
  std::string error;
  std::string dir = o.results_dir.empty() ? default_results_dir() : o.results_dir;
  if (int lock = take_lock(dir, error); lock < 0) {
    std::cerr << "vantage: " << error << (lock == kLockBusy ? "; try again when it has ended" : "") << "\n";
    return 1;
  }
  return run_command(o);
}

int run_unattended(RunOptions o, const UnattendedOptions& u) {
  if (o.results_dir.empty()) o.results_dir = default_results_dir();
  const std::string dir = o.results_dir;
  std::error_code ec;
  fs::create_directories(fs::path(log_path(dir)).parent_path(), ec);
  if (ec) {
    std::cerr << "vantage: cannot create " << fs::path(log_path(dir)).parent_path().string() << ": " << ec.message() << "\n";
    return 1;
  }
  std::string error;
  int lock = take_lock(dir, error);
  if (lock == -1) {
    std::cerr << "vantage: " << error << "\n";
    return 1;
  }
  // Only the lock holder rotates: two processes never rename at once.
  std::string rotate_error = lock >= 0 ? rotate_log(log_path(dir), u.log_max_bytes, u.log_keep) : "";
  int log = ::open(log_path(dir).c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (log < 0) {
    std::cerr << "vantage: cannot open the log " << log_path(dir) << ": " << std::strerror(errno) << "\n";
    return 1;
  }
  if (lock < 0) {
    // A long run and the next scheduled one: not a failure, nothing to say.
    log_line(log, error + "; this scheduled run is skipped");
    return 0;
  }
  if (!rotate_error.empty()) log_line(log, rotate_error);

  // From here on the terminal (or cron's mail) only hears of a failure.
  int terminal = ::fcntl(STDERR_FILENO, F_DUPFD_CLOEXEC, 3);
  std::cout.flush();
  std::cerr.flush();
  ::dup2(log, STDOUT_FILENO);
  ::dup2(log, STDERR_FILENO);
  int null = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  if (null >= 0) ::dup2(null, STDIN_FILENO);

  // The measuring deadline leaves a quarter of the maximum for the upload.
  o.timeout = std::max(1.0, std::min(o.timeout, u.max_runtime * 0.75));
  o.progress = false;
  o.json = false;
  RunReport report;
  o.report = &report;
  const std::string started = now_utc();
  log_line(log, "unattended run started (data " + dir + ", deadline " + std::to_string(static_cast<int>(o.timeout)) +
                    " s, maximum " + std::to_string(static_cast<int>(u.max_runtime)) + " s, upload " +
                    (o.upload ? "to " + o.collector_url : std::string("off")) + ")");
  write_state(dir, json{{"started", started}, {"pid", getpid()}, {"result", "running"}, {"log", log_path(dir)}});

  std::mutex m;
  std::condition_variable cv;
  bool done = false;
  std::thread watchdog([&] {
    std::unique_lock lk(m);
    if (cv.wait_for(lk, std::chrono::duration<double>(u.max_runtime), [&] { return done; })) return;
    log_line(log, "maximum run time (" + std::to_string(static_cast<int>(u.max_runtime)) + " s) reached: stopping");
    write_state(dir, json{{"started", started}, {"finished", now_utc()}, {"result", "timed out"},
                          {"exit_code", kExitTimedOut}, {"log", log_path(dir)}});
    if (terminal >= 0) write_all(terminal, "vantage: the scheduled run took longer than its maximum and was stopped; see " + log_path(dir) + "\n");
    _exit(kExitTimedOut);
  });

  int code = run_command(o);
  std::cout.flush();
  std::cerr.flush();
  {
    std::lock_guard lk(m);
    done = true;
  }
  cv.notify_all();
  watchdog.join();

  int pending = pending_uploads(dir);
  std::string result = code == 0 ? "ok" : "failed";
  std::string upload = report.upload_code < 0 ? "no upload" : report.upload_code == 0 ? "all uploaded" : "some kept for a later upload";
  write_state(dir, json{{"started", started},
                        {"finished", now_utc()},
                        {"result", result},
                        {"exit_code", code},
                        {"run_id", report.run_id},
                        {"measurements", report.measurements},
                        {"upload", upload},
                        {"pending_uploads", pending},
                        {"log", log_path(dir)}});
  log_line(log, "unattended run ended: " + result + " (exit " + std::to_string(code) + "), " +
                    std::to_string(report.measurements) + " measurements, " + upload + ", " + std::to_string(pending) +
                    " not uploaded");
  if (code != 0 && terminal >= 0)
    write_all(terminal, "vantage: the scheduled run failed (exit " + std::to_string(code) + "); see " + log_path(dir) + "\n");
  return code;
}

std::string describe_last_run(const std::string& dir) {
  std::ifstream in(last_run_path(dir));
  if (!in) return "";
  auto s = json::parse(in, nullptr, false);
  if (!s.is_object()) return last_run_path(dir) + " is unreadable";
  std::string out = s.value("started", "?") + ": " + s.value("result", "?");
  if (s.contains("exit_code")) out += " (exit " + std::to_string(s.value("exit_code", -1)) + ")";
  if (s.contains("finished")) out += ", finished " + s.value("finished", "?");
  if (s.contains("measurements")) out += ", " + std::to_string(s.value("measurements", 0)) + " measurements";
  if (s.contains("upload")) out += ", " + s.value("upload", "");
  if (s.contains("pending_uploads")) out += ", " + std::to_string(s.value("pending_uploads", 0)) + " not uploaded";
  if (s.value("result", "") == "running") out += " (pid " + std::to_string(s.value("pid", 0)) + ")";
  return out + "; log: " + s.value("log", log_path(dir));
}

}  // namespace vantage::cli
