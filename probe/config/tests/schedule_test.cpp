// Tests for the schedule's text: durations, intervals both schedulers can
// express, the crontab entry (found, replaced and removed by its marker,
// other lines kept) and the systemd units, which systemd-analyze must accept.
#include "probe/config/schedule.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

namespace vantage::config {
namespace {

namespace fs = std::filesystem;

TEST(Schedule, Durations) {
  std::string err;
  EXPECT_EQ(parse_duration("6h", err), 6 * 3600);
  EXPECT_EQ(parse_duration("30m", err), 1800);
  EXPECT_EQ(parse_duration("90s", err), 90);
  EXPECT_EQ(parse_duration("1d", err), 86400);
  EXPECT_EQ(parse_duration("0", err), 0);
  for (const char* bad : {"", "6", "h", "6hours", "-1m", "1.5h", "9999999h", "6H"}) {
    EXPECT_FALSE(parse_duration(bad, err)) << bad;
    EXPECT_NE(err.find("expected a duration such as 90s, 30m, 6h or 1d"), std::string::npos);
  }
  EXPECT_EQ(format_duration(21600), "6h");
  EXPECT_EQ(format_duration(90), "90s");
  EXPECT_EQ(format_duration(0), "0");
}

ScheduleSpec spec(long every, long jitter) {
  ScheduleSpec s;
  s.every = every;
  s.jitter = jitter;
  s.vantage = "/usr/bin/vantage";
  return s;
}

TEST(Schedule, IntervalsMustDivideTheDay) {
  for (long ok : {60L, 300L, 900L, 1800L, 3600L, 7200L, 6 * 3600L, 12 * 3600L, 86400L})
    EXPECT_EQ(check_spec(spec(ok, 0)), "") << ok;
  for (long bad : {30L, 90L, 7 * 60L, 45 * 60L, 5 * 3600L, 2 * 86400L})
    EXPECT_NE(check_spec(spec(bad, 0)).find("must divide the day"), std::string::npos) << bad;
  EXPECT_NE(check_spec(spec(3600, 3600)).find("--jitter 1h must be shorter than --every 1h"), std::string::npos);
  auto s = spec(3600, 0);
  s.global_args = {"--config", "/home/x/100%.conf"};
  EXPECT_NE(check_spec(s).find("cron cannot carry '%'"), std::string::npos);
  s = spec(3600, 0);
  s.vantage = "vantage";
  EXPECT_NE(check_spec(s).find("absolute"), std::string::npos);
}

TEST(Schedule, CronAndSystemdSayTheSameTimes) {
  EXPECT_EQ(cron_expression(60), "* * * * *");
  EXPECT_EQ(cron_expression(900), "*/15 * * * *");
  EXPECT_EQ(cron_expression(3600), "0 * * * *");
  EXPECT_EQ(cron_expression(6 * 3600), "0 */6 * * *");
  EXPECT_EQ(cron_expression(86400), "0 0 * * *");
  EXPECT_EQ(systemd_calendar(900), "*-*-* *:00/15:00");
  EXPECT_EQ(systemd_calendar(6 * 3600), "*-*-* 00/6:00:00");
  EXPECT_EQ(systemd_calendar(86400), "*-*-* 00:00:00");
}

TEST(Schedule, CronEntryCarriesJitterEnvironmentAndQuoting) {
  auto s = spec(6 * 3600, 1800);
  s.global_args = {"--config", "/home/a b/it's.conf"};
  s.env["XDG_DATA_HOME"] = "/home/a b/.data";
  EXPECT_EQ(cron_entry(s),
            "# vantage-schedule: every 6h, jitter 30m (`vantage schedule remove` removes it)\n"
            "0 */6 * * * sleep $(shuf -i 0-1800 -n 1) && XDG_DATA_HOME='/home/a b/.data' /usr/bin/vantage "
            "--config '/home/a b/it'\\''s.conf' run --unattended\n");
  EXPECT_EQ(cron_entry(spec(60, 0)),
            "# vantage-schedule: every 1m, jitter 0 (`vantage schedule remove` removes it)\n"
            "* * * * * /usr/bin/vantage run --unattended\n");
}

TEST(Schedule, CrontabEditsTouchOnlyOurEntry) {
  std::string mine = cron_entry(spec(3600, 0));
  std::string theirs = "MAILTO=me\n# backups\n30 2 * * * /usr/local/bin/backup\n";
  std::string with = crontab_with(theirs, mine);
  EXPECT_EQ(with, theirs + mine);
  EXPECT_EQ(find_cron_entry(with), mine);
  // Installing again replaces, never doubles.
  std::string again = crontab_with(with, cron_entry(spec(900, 0)));
  EXPECT_EQ(again, theirs + cron_entry(spec(900, 0)));
  EXPECT_EQ(crontab_without(again), theirs);
  EXPECT_EQ(crontab_without(theirs), theirs);
  EXPECT_EQ(find_cron_entry(theirs), "");
  EXPECT_EQ(crontab_with("", mine), mine);
  EXPECT_EQ(crontab_with("MAILTO=me", mine), "MAILTO=me\n" + mine);
}

TEST(Schedule, SystemdUnits) {
  auto s = spec(6 * 3600, 1800);
  s.env["XDG_CONFIG_HOME"] = "/home/a b/100%";
  std::string service = systemd_service(s), timer = systemd_timer(s);
  EXPECT_NE(service.find("ExecStart=/usr/bin/vantage run --unattended\n"), std::string::npos);
  EXPECT_NE(service.find("Environment=\"XDG_CONFIG_HOME=/home/a b/100%%\"\n"), std::string::npos);
  EXPECT_NE(service.find("Type=oneshot\n"), std::string::npos);
  EXPECT_NE(timer.find("OnCalendar=*-*-* 00/6:00:00\n"), std::string::npos);
  EXPECT_NE(timer.find("RandomizedDelaySec=1800\n"), std::string::npos);
  EXPECT_NE(timer.find("Persistent=true\n"), std::string::npos);
  EXPECT_NE(timer.find("WantedBy=timers.target\n"), std::string::npos);
}

// systemd's own reading of the generated units (the test machine has no
// user systemd instance to run them; `systemd-analyze verify` is what it
// can do). A unit systemd refuses makes verify fail.
TEST(Schedule, SystemdAnalyzeVerifiesTheUnits) {
  ASSERT_EQ(std::system("command -v systemd-analyze >/dev/null"), 0) << "systemd-analyze is needed (Debian's systemd)";
  fs::path dir = fs::temp_directory_path() / ("vantage_schedule_test_" + std::to_string(getpid()));
  fs::create_directories(dir);
  auto verify = [&](const ScheduleSpec& sp) {
    std::ofstream(dir / "vantage.service") << systemd_service(sp);
    std::ofstream(dir / "vantage.timer") << systemd_timer(sp);
    std::string cmd = "cd " + dir.string() + " && systemd-analyze verify --man=no vantage.timer vantage.service 2>&1";
    return std::system(cmd.c_str());
  };
  for (long every : {60L, 900L, 3600L, 6 * 3600L, 86400L}) {
    auto sp = spec(every, every / 2);
    sp.vantage = "/bin/true";  // verify checks that the program exists
    sp.global_args = {"--results-dir", "/tmp/a b/$HOME"};
    sp.env["XDG_CONFIG_HOME"] = "/tmp/x y";
    EXPECT_EQ(verify(sp), 0) << every;
  }
  // And it does fail on a broken unit: the check can tell.
  auto sp = spec(3600, 0);
  sp.vantage = "/nonexistent/vantage";
  EXPECT_NE(verify(sp), 0);
  fs::remove_all(dir);
}

}  // namespace
}  // namespace vantage::config
