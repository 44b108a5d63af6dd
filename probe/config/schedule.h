// Scheduling the unattended run (`vantage run --unattended`): a systemd
// user timer where a user systemd instance answers, else an entry in the
// user's crontab. The text of both is made by pure functions (tested
// alone); installing, finding and removing them goes through `systemctl
// --user` and `crontab -l` / `crontab -`, found on PATH.
//
// Intervals must divide the day so that both schedulers mean the same
// thing: 1-59 minutes dividing 60 (1m, 5m, 15m, 30m...), 1-24 hours
// dividing 24 (1h, 2h, 3h, 4h, 6h, 8h, 12h), or 1d. The jitter (a random
// delay before each run) must be shorter than the interval.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace vantage::config {

// "90s", "30m", "6h", "1d", "0" -> seconds; nullopt and `error` otherwise.
std::optional<long> parse_duration(const std::string& text, std::string& error);
std::string format_duration(long seconds);  // 21600 -> "6h", 90 -> "90s"

struct ScheduleSpec {
  long every = 6 * 3600;   // seconds
  long jitter = 30 * 60;   // seconds, < every
  std::string vantage;     // absolute path of the binary
  std::vector<std::string> global_args;     // e.g. --config FILE, --results-dir DIR
  std::map<std::string, std::string> env;   // e.g. XDG_CONFIG_HOME: the installer's dirs
};

// "" or why the spec cannot be scheduled (interval, jitter, characters
// cron cannot carry).
std::string check_spec(const ScheduleSpec& spec);

// The marker comment that precedes (and so identifies) our crontab entry.
inline constexpr const char* kCronMarker = "# vantage-schedule";

std::string cron_expression(long every);    // "*/5 * * * *", "0 */6 * * *", "0 0 * * *"
std::string systemd_calendar(long every);   // "*-*-* *:00/5:00", "*-*-* 00/6:00:00", ...
// The two lines of our crontab entry (marker + job), newline-terminated.
std::string cron_entry(const ScheduleSpec& spec);
// `crontab` text with our entry replaced/added, or removed. Other lines
// are kept as they are.
std::string crontab_with(const std::string& crontab, const std::string& entry);
std::string crontab_without(const std::string& crontab);
// Our entry in `crontab` (marker line + job line), "" when none.
std::string find_cron_entry(const std::string& crontab);

std::string systemd_service(const ScheduleSpec& spec);
std::string systemd_timer(const ScheduleSpec& spec);
std::string systemd_user_dir();  // $XDG_CONFIG_HOME/systemd/user, else ~/.config/systemd/user

// --- talking to the schedulers (PATH lookups) ---

struct Outcome {
  int code = 0;          // 0 done; 1 failed; 2 bad request; 4 scheduler not available
  std::string message;   // what was done, or the error
};

bool systemd_user_usable();  // `systemctl --user show-environment` succeeds
bool have_crontab();         // a `crontab` program on PATH

// method: "systemd", "cron" or "" (systemd when usable, else cron).
Outcome install_schedule(const ScheduleSpec& spec, const std::string& method);
Outcome remove_schedule();
// What is installed ("" when nothing), with the method's own words.
Outcome describe_schedule(std::string& installed);

}  // namespace vantage::config
