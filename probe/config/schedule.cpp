// Scheduling. See schedule.h.
#include "probe/config/schedule.h"

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

extern char** environ;

namespace vantage::config {

namespace fs = std::filesystem;

namespace {

struct Proc {
  int code = -1;       // exit status; -1 = could not start; 128+N = killed by signal N
  std::string output;  // stdout and stderr together
};

// Runs argv (PATH lookup) with `input` on its stdin; collects its output.
Proc run(const std::vector<std::string>& argv, const std::string& input = "") {
  Proc p;
  int in[2], out[2];
  if (pipe2(in, O_CLOEXEC) != 0) return p;
  if (pipe2(out, O_CLOEXEC) != 0) {
    close(in[0]), close(in[1]);
    return p;
  }
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, in[0], 0);
  posix_spawn_file_actions_adddup2(&fa, out[1], 1);
  posix_spawn_file_actions_adddup2(&fa, out[1], 2);
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid;
  int rc = posix_spawnp(&pid, args[0], &fa, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  close(in[0]), close(out[1]);
  if (rc != 0) {
    close(in[1]), close(out[0]);
    p.output = std::strerror(rc);
    return p;
  }
  // The inputs are a crontab: small enough for the pipe's buffer, and
  // crontab reads all of it before writing anything.
  size_t off = 0;
  while (off < input.size()) {
    ssize_t n = write(in[1], input.data() + off, input.size() - off);
    if (n <= 0) break;
    off += static_cast<size_t>(n);
  }
  close(in[1]);
  char buf[4096];
  ssize_t n;
  while ((n = read(out[0], buf, sizeof buf)) > 0) p.output.append(buf, static_cast<size_t>(n));
  close(out[0]);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  p.code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return p;
}

bool plain_word(const std::string& s) {
  return !s.empty() && s.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_/.,:=@+-") ==
                           std::string::npos;
}

std::string shell_quote(const std::string& s) {
  if (plain_word(s)) return s;
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

// One word of a systemd command line or Environment= assignment.
std::string systemd_quote(const std::string& s) {
  std::string body;
  for (char c : s) {
    if (c == '%') body += "%%";
    else if (c == '$') body += "$$";
    else if (c == '\\' || c == '"') body += '\\', body += c;
    else body += c;
  }
  return plain_word(s) ? body : "\"" + body + "\"";
}

std::vector<std::string> job_argv(const ScheduleSpec& spec) {
  std::vector<std::string> argv{spec.vantage};
  argv.insert(argv.end(), spec.global_args.begin(), spec.global_args.end());
  argv.push_back("run");
  argv.push_back("--unattended");
  return argv;
}

std::string describe(const ScheduleSpec& spec) {
  return "every " + format_duration(spec.every) + ", jitter " + format_duration(spec.jitter);
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::stringstream s(text);
  std::string l;
  while (std::getline(s, l)) out.push_back(l);
  return out;
}

bool is_marker(const std::string& line) { return line.rfind(kCronMarker, 0) == 0; }

// `crontab -l`: the current crontab ("" when the user has none).
Outcome read_crontab(std::string& text) {
  Proc p = run({"crontab", "-l"});
  if (p.code == 0) {
    text = p.output;
    return {};
  }
  // Debian's crontab says "no crontab for USER" and exits 1 when there is none.
  if (p.code == 1 && p.output.find("no crontab for") != std::string::npos) {
    text.clear();
    return {};
  }
  if (p.code == -1) return {4, "cannot run crontab: " + p.output + " (install cron, or use --systemd)"};
  return {1, "crontab -l failed (exit " + std::to_string(p.code) + "): " + p.output};
}

Outcome write_crontab(const std::string& text) {
  Proc p = run({"crontab", "-"}, text);
  if (p.code == 0) return {};
  return {1, "crontab - failed (exit " + std::to_string(p.code) + "): " + p.output};
}

Outcome systemctl(const std::vector<std::string>& args) {
  std::vector<std::string> argv{"systemctl", "--user"};
  argv.insert(argv.end(), args.begin(), args.end());
  Proc p = run(argv);
  if (p.code == 0) return {0, p.output};
  std::string cmd;
  for (const auto& a : argv) cmd += (cmd.empty() ? "" : " ") + a;
  return {1, cmd + " failed (exit " + std::to_string(p.code) + "): " + p.output};
}

Outcome write_file(const std::string& path, const std::string& text) {
  std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out << text;
    if (!out.flush()) return {1, "cannot write " + tmp};
  }
  std::error_code ec;
  fs::rename(tmp, path, ec);
  if (ec) return {1, "cannot write " + path + ": " + ec.message()};
  return {};
}

}  // namespace

std::optional<long> parse_duration(const std::string& text, std::string& error) {
  if (text == "0") return 0;
  size_t digits = text.find_first_not_of("0123456789");
  long unit = 0;
  if (digits != std::string::npos && digits > 0 && digits <= 6 && digits + 1 == text.size()) {
    switch (text[digits]) {
      case 's': unit = 1; break;
      case 'm': unit = 60; break;
      case 'h': unit = 3600; break;
      case 'd': unit = 86400; break;
    }
  }
  if (!unit) {
    error = "expected a duration such as 90s, 30m, 6h or 1d, got \"" + text + "\"";
    return std::nullopt;
  }
  return std::stol(text.substr(0, digits)) * unit;
}

std::string format_duration(long s) {
  if (s == 0) return "0";
  if (s % 86400 == 0) return std::to_string(s / 86400) + "d";
  if (s % 3600 == 0) return std::to_string(s / 3600) + "h";
  if (s % 60 == 0) return std::to_string(s / 60) + "m";
  return std::to_string(s) + "s";
}

std::string check_spec(const ScheduleSpec& spec) {
  long e = spec.every;
  bool ok = (e >= 60 && e < 3600 && e % 60 == 0 && 3600 % e == 0) ||
            (e >= 3600 && e < 86400 && e % 3600 == 0 && 86400 % e == 0) || e == 86400;
  if (!ok)
    return "--every " + format_duration(e) +
           ": the interval must divide the day: 1-30 minutes dividing an hour (1m, 5m, 15m, 30m...), "
           "hours dividing a day (1h, 2h, 3h, 4h, 6h, 8h, 12h) or 1d";
  if (spec.jitter < 0 || spec.jitter >= e)
    return "--jitter " + format_duration(spec.jitter) + " must be shorter than --every " + format_duration(e);
  if (spec.vantage.empty() || spec.vantage[0] != '/') return "the vantage binary's path must be absolute";
  auto bad = [](const std::string& s) { return s.find_first_of("%\n\r") != std::string::npos; };
  for (const auto& a : job_argv(spec))
    if (bad(a)) return "\"" + a + "\": cron cannot carry '%' or line breaks in a command";
  for (const auto& [k, v] : spec.env)
    if (bad(v) || !plain_word(k)) return k + "=" + v + ": cannot be passed to a scheduled run";
  return "";
}

std::string cron_expression(long every) {
  if (every < 3600) {
    long m = every / 60;
    return (m == 1 ? std::string("*") : "*/" + std::to_string(m)) + " * * * *";
  }
  if (every < 86400) {
    long h = every / 3600;
    return "0 " + (h == 1 ? std::string("*") : "*/" + std::to_string(h)) + " * * *";
  }
  return "0 0 * * *";
}

std::string systemd_calendar(long every) {
  char buf[64];
  if (every < 3600) std::snprintf(buf, sizeof buf, "*-*-* *:00/%ld:00", every / 60);
  else if (every < 86400) std::snprintf(buf, sizeof buf, "*-*-* 00/%ld:00:00", every / 3600);
  else std::snprintf(buf, sizeof buf, "*-*-* 00:00:00");
  return buf;
}

std::string cron_entry(const ScheduleSpec& spec) {
  std::string cmd;
  // cron has no random delay of its own: the job sleeps first.
  if (spec.jitter > 0) cmd += "sleep $(shuf -i 0-" + std::to_string(spec.jitter) + " -n 1) && ";
  for (const auto& [k, v] : spec.env) cmd += k + "=" + shell_quote(v) + " ";
  bool first = true;
  for (const auto& a : job_argv(spec)) cmd += (first ? "" : " ") + shell_quote(a), first = false;
  return std::string(kCronMarker) + ": " + describe(spec) + " (`vantage schedule remove` removes it)\n" +
         cron_expression(spec.every) + " " + cmd + "\n";
}

std::string crontab_with(const std::string& crontab, const std::string& entry) {
  std::string out = crontab_without(crontab);
  if (!out.empty() && out.back() != '\n') out += "\n";
  return out + entry;
}

std::string crontab_without(const std::string& crontab) {
  auto lines = lines_of(crontab);
  std::string out;
  for (size_t i = 0; i < lines.size(); ++i) {
    if (is_marker(lines[i])) {
      ++i;  // and the job line after it
      continue;
    }
    out += lines[i] + "\n";
  }
  return out;
}

std::string find_cron_entry(const std::string& crontab) {
  auto lines = lines_of(crontab);
  for (size_t i = 0; i < lines.size(); ++i)
    if (is_marker(lines[i])) return lines[i] + "\n" + (i + 1 < lines.size() ? lines[i + 1] + "\n" : "");
  return "";
}

std::string systemd_service(const ScheduleSpec& spec) {
  std::string exec;
  for (const auto& a : job_argv(spec)) exec += (exec.empty() ? "" : " ") + systemd_quote(a);
  std::string out =
      "# Written by `vantage schedule install`; `vantage schedule remove` removes it.\n"
      "[Unit]\n"
      "Description=Vantage censorship measurement (scheduled run)\n"
      "Documentation=man:vantage(1)\n"
      "\n"
      "[Service]\n"
      "Type=oneshot\n";
  for (const auto& [k, v] : spec.env) out += "Environment=" + systemd_quote(k + "=" + v) + "\n";
  out += "ExecStart=" + exec +
         "\n"
         "# A measurement must not slow the volunteer's machine down.\n"
         "Nice=10\n"
         "IOSchedulingClass=idle\n";
  return out;
}

std::string systemd_timer(const ScheduleSpec& spec) {
  return "# Written by `vantage schedule install`; `vantage schedule remove` removes it.\n"
         "[Unit]\n"
         "Description=Vantage censorship measurement, " +
         describe(spec) +
         "\n"
         "\n"
         "[Timer]\n"
         "OnCalendar=" +
         systemd_calendar(spec.every) +
         "\n"
         "RandomizedDelaySec=" +
         std::to_string(spec.jitter) +
         "\n"
         "# A run missed while the machine was off happens when it is back.\n"
         "Persistent=true\n"
         "\n"
         "[Install]\n"
         "WantedBy=timers.target\n";
}

std::string systemd_user_dir() {
  if (const char* x = std::getenv("XDG_CONFIG_HOME"); x && *x == '/') return std::string(x) + "/systemd/user";
  if (const char* h = std::getenv("HOME"); h && *h) return std::string(h) + "/.config/systemd/user";
  return ".config/systemd/user";
}

bool systemd_user_usable() { return run({"systemctl", "--user", "show-environment"}).code == 0; }

bool have_crontab() {
  const char* path = std::getenv("PATH");
  std::stringstream dirs(path ? path : "");
  std::string d;
  while (std::getline(dirs, d, ':'))
    if (!d.empty() && access((d + "/crontab").c_str(), X_OK) == 0) return true;
  return false;
}

Outcome install_schedule(const ScheduleSpec& spec, const std::string& method) {
  if (auto bad = check_spec(spec); !bad.empty()) return {2, bad};
  std::string how = method;
  if (how.empty()) how = systemd_user_usable() ? "systemd" : "cron";
  if (how == "systemd") {
    if (!systemd_user_usable())
      return {4, "--systemd: no user systemd instance answers (`systemctl --user` cannot connect); use --cron"};
    std::error_code ec;
    fs::create_directories(systemd_user_dir(), ec);
    if (ec) return {1, "cannot create " + systemd_user_dir() + ": " + ec.message()};
    std::string dir = systemd_user_dir();
    for (auto [name, text] : {std::pair{"vantage.service", systemd_service(spec)}, {"vantage.timer", systemd_timer(spec)}})
      if (auto o = write_file(dir + "/" + name, text); o.code) return o;
    if (auto o = systemctl({"daemon-reload"}); o.code) return o;
    if (auto o = systemctl({"enable", "--now", "vantage.timer"}); o.code) return o;
    std::string other;
    if (have_crontab() && read_crontab(other).code == 0 && !find_cron_entry(other).empty()) write_crontab(crontab_without(other));
    return {0, "installed a systemd user timer (" + describe(spec) + "): " + dir + "/vantage.timer"};
  }
  if (how != "cron") return {2, "unknown scheduler \"" + how + "\""};
  if (!have_crontab()) return {4, "no `crontab` program on PATH (install Debian's cron package, or use --systemd)"};
  std::string current;
  if (auto o = read_crontab(current); o.code) return o;
  std::string entry = cron_entry(spec);
  if (auto o = write_crontab(crontab_with(current, entry)); o.code) return o;
  // One schedule at a time: a timer from an earlier install goes.
  std::string timer = systemd_user_dir() + "/vantage.timer";
  std::error_code ec;
  if (fs::exists(timer, ec)) {
    if (systemd_user_usable()) systemctl({"disable", "--now", "vantage.timer"});
    fs::remove(timer, ec);
    fs::remove(systemd_user_dir() + "/vantage.service", ec);
  }
  return {0, "installed in your crontab (" + describe(spec) + "):\n" + entry};
}

Outcome remove_schedule() {
  std::vector<std::string> done;
  std::string dir = systemd_user_dir();
  std::error_code ec;
  if (fs::exists(dir + "/vantage.timer", ec)) {
    if (systemd_user_usable()) systemctl({"disable", "--now", "vantage.timer"});
    fs::remove(dir + "/vantage.timer", ec);
    fs::remove(dir + "/vantage.service", ec);
    if (systemd_user_usable()) systemctl({"daemon-reload"});
    done.push_back("removed the systemd user timer");
  }
  if (have_crontab()) {
    std::string current;
    if (auto o = read_crontab(current); o.code) return o;
    if (!find_cron_entry(current).empty()) {
      if (auto o = write_crontab(crontab_without(current)); o.code) return o;
      done.push_back("removed the crontab entry");
    }
  }
  if (done.empty()) return {0, "nothing to remove: no schedule is installed"};
  std::string msg;
  for (const auto& d : done) msg += (msg.empty() ? "" : "; ") + d;
  return {0, msg};
}

Outcome describe_schedule(std::string& installed) {
  installed.clear();
  std::string dir = systemd_user_dir();
  std::error_code ec;
  if (fs::exists(dir + "/vantage.timer", ec)) {
    std::ifstream in(dir + "/vantage.timer");
    std::string line, when;
    while (std::getline(in, line))
      if (line.rfind("Description=", 0) == 0) when = line.substr(line.find(", ") + 2);
    installed += "systemd user timer (" + when + "): " + dir + "/vantage.timer\n";
    if (systemd_user_usable()) {
      auto o = systemctl({"list-timers", "--all", "--no-pager", "vantage.timer"});
      installed += o.message;
    }
  }
  if (have_crontab()) {
    std::string current;
    if (auto o = read_crontab(current); o.code) return o;
    std::string entry = find_cron_entry(current);
    if (!entry.empty()) installed += "crontab entry:\n" + entry;
  }
  return {};
}

}  // namespace vantage::config
