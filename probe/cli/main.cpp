// vantage: the command-line probe. Parses flags (CLI11) and dispatches to
// the commands; all measuring, judging and storing lives elsewhere.
// Exit codes: 0 measured (whatever the verdict), 1 the tool itself failed,
// 2 usage or input error.
#include <CLI/CLI.hpp>
#include <curl/curl.h>
#include <malloc.h>

#include <csignal>
#include <iostream>

#include "probe/catalog/catalog.h"
#include "probe/cli/config_command.h"
#include "probe/cli/unattended.h"
#include "probe/config/consent.h"
#include "probe/config/schedule.h"
#include "probe/net/dns_lookup.h"
#include "probe/cli/results_store.h"
#include "probe/cli/run_command.h"
#include "probe/cli/summary_table.h"
#include "probe/cli/upload_command.h"

namespace {

using namespace vantage;

const char* kExitCodes =
    "Exit codes: 0 = measured (whatever the verdicts), 1 = the tool itself failed\n"
    "(e.g. results could not be saved), 2 = usage or input error (flags, catalog, configuration file),\n"
    "3 = `run`/`upload` refused: consent not given yet (`vantage onboard`).\n"
    "Configuration: /etc/vantage/vantage.conf, then ~/.config/vantage/vantage.conf (or --config FILE);\n"
    "flags override it. `vantage config show` lists every key and where its value came from.";

int list_command(const std::string& dir) {
  std::string error;
  auto runs = cli::list_runs(dir, error);
  if (!error.empty()) {
    std::cerr << "vantage: " << error << "\n";
    return 1;
  }
  if (runs.empty()) {
    std::cout << "no runs in " << dir << " yet (`vantage run` makes one)\n";
    return 0;
  }
  for (const auto& r : runs) {
    std::cout << r.id;
    for (const auto& m : r.measurements)
      std::cout << "  " << m.value("test_name", "?") << "="
                << m.value("test_keys", nlohmann::json::object()).value("x_verdict", nlohmann::json::object()).value("status", "?");
    if (!r.errors.empty()) std::cout << "  (" << r.errors.size() << " unreadable lines)";
    std::cout << "\n";
  }
  return 0;
}

int show_command(const std::string& dir, const std::string& id, bool as_json) {
  std::string run_id = id, test;
  if (auto slash = id.find('/'); slash != std::string::npos) run_id = id.substr(0, slash), test = id.substr(slash + 1);
  std::string error;
  auto run = cli::find_run(dir, run_id, error);
  if (!run) {
    std::cerr << "vantage: " << error << "\n";
    return 2;
  }
  bool found = false;
  for (const auto& m : run->measurements) {
    if (!test.empty() && m.value("test_name", "") != test) continue;
    found = true;
    if (as_json) std::cout << m.dump(2) << "\n";
    else std::cout << cli::describe_measurement(m) << "\n";
  }
  for (const auto& e : run->errors) std::cerr << "vantage: " << run->path << ": " << e << "\n";
  if (!found) {
    std::cerr << "vantage: run " << run_id << " has no measurement \"" << test << "\"\n";
    return 2;
  }
  return 0;
}

int catalog_check(const std::string& path) {
  std::error_code ec;
  auto result = std::filesystem::is_directory(path, ec) ? catalog::load_catalog_dir(path) : catalog::load_catalog_file(path);
  for (const auto& e : result.errors) std::cerr << "vantage: catalog error: " << e.to_string() << "\n";
  if (!result.ok()) return 2;
  for (const auto& s : result.catalog.services) {
    int unconfirmed = 0;
    for (const auto& e : s.endpoints) unconfirmed += !e.confirmed;
    std::cout << s.file << ": ok — " << s.name << (s.canary ? " (canary)" : "") << ", " << s.endpoints.size()
              << " endpoints, " << s.features.size() << " features";
    if (unconfirmed) std::cout << ", " << unconfirmed << " unconfirmed";
    std::cout << "\n";
  }
  return 0;
}

// `vantage onboard`. See probe/config/consent.h.
int onboard_command(bool yes) {
  std::string dir = config::user_config_dir();
  if (yes) std::cout << config::consent_text() << "\n";
  else if (!config::ask_consent(std::cin, std::cout)) return 3;
  if (auto err = config::record_consent(dir, yes ? "--yes" : "interactive"); !err.empty()) {
    std::cerr << "vantage: " << err << "\n";
    return 1;
  }
  std::cout << "agreed (notice version " << config::kConsentVersion << "), recorded in " << config::consent_path(dir)
            << "\nnext: `vantage run`, or `vantage schedule install` to measure every few hours\n";
  return 0;
}

std::string absolute(const std::string& p) {
  std::error_code ec;
  auto a = std::filesystem::absolute(p, ec);
  return ec ? p : a.lexically_normal().string();
}

int schedule_install(const std::string& every, const std::string& jitter, const std::string& method,
                     const std::string& config_file, const std::string& results_dir_flag) {
  config::ScheduleSpec spec;
  std::string error;
  auto e = config::parse_duration(every, error);
  if (!e) return std::cerr << "vantage: --every: " << error << "\n", 2;
  auto j = config::parse_duration(jitter, error);
  if (!j) return std::cerr << "vantage: --jitter: " << error << "\n", 2;
  spec.every = *e;
  spec.jitter = *j;
  std::error_code ec;
  spec.vantage = std::filesystem::read_symlink("/proc/self/exe", ec).string();
  // The scheduled run sees neither this shell's flags nor its environment:
  // it is told the same files and directories explicitly.
  if (!config_file.empty()) spec.global_args.insert(spec.global_args.end(), {"--config", absolute(config_file)});
  if (!results_dir_flag.empty()) spec.global_args.insert(spec.global_args.end(), {"--results-dir", absolute(results_dir_flag)});
  for (const char* var : {"XDG_CONFIG_HOME", "XDG_DATA_HOME"})
    if (const char* v = std::getenv(var); v && *v == '/') spec.env[var] = v;
  auto o = config::install_schedule(spec, method);
  if (o.code) return std::cerr << "vantage: " << o.message << "\n", o.code;
  std::cout << o.message << (o.message.ends_with("\n") ? "" : "\n") << "`vantage schedule status` shows how the runs go\n";
  return 0;
}

int schedule_status(const std::string& results_dir) {
  std::string installed;
  auto o = config::describe_schedule(installed);
  if (o.code) return std::cerr << "vantage: " << o.message << "\n", o.code;
  std::cout << (installed.empty() ? "no schedule installed (`vantage schedule install` adds one)\n" : "scheduled: " + installed);
  std::string last = cli::describe_last_run(results_dir);
  std::cout << "last unattended run: " << (last.empty() ? "none yet (in " + results_dir + ")" : last) << "\n";
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  // libcurl runs with CURLOPT_NOSIGNAL; a peer closing mid-write must be an
  // error value, not a killed process.
  std::signal(SIGPIPE, SIG_IGN);
  // Before any thread and any lookup (it sets RES_OPTIONS; see dns_lookup.h).
  net::tune_system_resolver_retransmission();
  // Before any thread: the location lookup and the measurements use libcurl
  // at once.
  curl_global_init(CURL_GLOBAL_DEFAULT);
  // Dozens of short-lived measuring threads would otherwise each get a malloc
  // arena of their own, and the probe's footprint would grow with them.
  mallopt(M_ARENA_MAX, 2);
  CLI::App app{
      "vantage: tests whether messaging services (WhatsApp, Signal, WeChat) are reachable from this network,\n"
      "and how they are blocked when they are not (DNS, TCP/IP, TLS, HTTP, throttling).\n\n"
      "Start with:  vantage onboard      (what running it can mean for you; needed once)\n"
      "             vantage run          (tests every service, prints a table, saves the results)\n"
      "Then:        vantage list         (past runs)   vantage show RUN_ID   (one run in detail)\n"};
  app.footer(kExitCodes);
  app.require_subcommand(0, 1);
  app.fallthrough();  // --results-dir may also follow the subcommand
  app.set_version_flag("--version", std::string("vantage ") + VANTAGE_VERSION);

  std::string results_dir = cli::default_results_dir();
  auto* results_dir_opt = app.add_option("--results-dir", results_dir, "Where runs are saved")->capture_default_str();
  std::string config_file;
  app.add_option("--config", config_file,
                 "Read only this configuration file (instead of /etc/vantage/vantage.conf and the per-user one)");

  cli::RunOptions run;
  run.catalog_dir = catalog::default_catalog_dir();
  run.services = {"all"};
  auto* run_cmd = app.add_subcommand("run", "Measure services: all of them, or the ones named (those of the --catalog directory; `vantage catalog check DIR` lists them)");
  cli::RunFlagsGiven given;
  auto* services_opt = run_cmd->add_option("services", run.services, "Services to test")->capture_default_str();
  auto* catalog_opt = run_cmd->add_option("--catalog", run.catalog_dir, "Directory of service catalogs (*.json)")->capture_default_str()->check(CLI::ExistingDirectory);
  auto* ca_bundle_opt = run_cmd->add_option("--ca-bundle", run.ca_bundle, "Extra trusted CA certificates (PEM file)")->check(CLI::ExistingFile);
  run_cmd->add_option("--output,-o", run.output, "Also write the measurements (JSON Lines) to this file");
  auto* control_opt = run_cmd->add_option("--control", run.control_url, "Control vantage point (test helper) URL, to tell blocked from down");
  auto* timeout_opt = run_cmd->add_option("--timeout", run.timeout, "Deadline for the whole run, seconds")->capture_default_str()->check(CLI::Range(1.0, 3600.0));
  auto* connect_timeout_opt = run_cmd->add_option("--connect-timeout", run.connect_timeout, "Timeout of one TCP connect, seconds")->capture_default_str()->check(CLI::Range(0.1, 120.0));
  auto* parallelism_opt = run_cmd->add_option("--parallelism", run.parallelism, "How many endpoints are measured at once")->capture_default_str()->check(CLI::Range(1, 512));
  run_cmd->add_flag("!--no-capture", run.capture, "Don't capture packets (capture needs CAP_NET_RAW; without it the run goes on)");
  run_cmd->add_option("--capture-interface", run.capture_interface, "Interface to capture on")->capture_default_str();
  run_cmd->add_option("--pcap", run.pcap_file, "Also keep the raw capture in this file (mode 0600; it holds your addresses: never share it)");
  auto* collector_opt = run_cmd->add_option("--collector", run.collector_url, "Collector to upload to after the run (with --upload); also asked for your public address before measuring");
  auto* upload_opt = run_cmd->add_flag("--upload,!--no-upload", run.upload,
                                       "Upload the measurements to --collector (you agree to publish them); default: "
                                       "upload when the configuration file sets collector.url");
  auto* proxy_opt = run_cmd->add_option("--proxy", run.upload_proxy, "Proxy for the upload and the public-address lookup: http://, https://, socks5:// or socks5h://HOST:PORT");
  auto* asn_db_opt = run_cmd->add_option("--geoip-asn-db", run.location.asn_db, "MaxMind-format ASN database (GeoLite2-ASN, DB-IP ASN Lite) for probe_asn and probe_network_name");
  auto* country_db_opt = run_cmd->add_option("--geoip-country-db", run.location.country_db, "MaxMind-format country database for probe_cc (default: the ASN database, if it has countries)");
  auto* probe_asn_opt = run_cmd->add_option("--probe-asn", run.location.probe_asn, "Your network's ASN (e.g. AS3320), instead of looking it up");
  auto* probe_cc_opt = run_cmd->add_option("--probe-cc", run.location.probe_cc, "Your country code (e.g. DE), instead of looking it up");
  auto* probe_net_opt = run_cmd->add_option("--probe-network-name", run.location.probe_network_name, "Your network's name, instead of looking it up");
  run_cmd->add_option("--resolver-echo-name", run.location.resolver_echo_name, "A name whose DNS server answers the address of the resolver asking (for resolver_ip/resolver_asn); default: the first nameserver in /etc/resolv.conf");
  run_cmd->add_flag("--json", run.json, "Print the measurements as JSON Lines instead of the table");
  run_cmd->add_flag("!--no-progress", run.progress, "Don't show what is being tested");
  bool unattended = false;
  cli::UnattendedOptions unattended_options;
  run_cmd->add_flag("--unattended", unattended,
                    "A scheduled run: skip quietly if another run is going on, log to <results dir>/logs/vantage.log, "
                    "print nothing unless something is wrong, stop after --max-runtime");
  run_cmd->add_option("--max-runtime", unattended_options.max_runtime, "With --unattended: stop after this many seconds (exit 124)")
      ->capture_default_str()->check(CLI::Range(10.0, 86400.0));

  cli::UploadOptions up;
  auto* upload_cmd = app.add_subcommand("upload", "Upload saved measurements no collector has acknowledged yet; show what happened to each");
  auto* up_collector_opt = upload_cmd->add_option("--collector", up.collector_url, "Collector URL (http:// or https://; default: collector.url of the configuration)");
  upload_cmd->add_option("--ca-bundle", up.ca_bundle, "Trust this PEM CA bundle instead of the system roots")->check(CLI::ExistingFile);
  auto* up_proxy_opt = upload_cmd->add_option("--proxy", up.proxy, "Proxy: http://, https://, socks5:// or socks5h://HOST:PORT");
  upload_cmd->add_option("--timeout", up.timeout, "Timeout of one request, seconds")->capture_default_str()->check(CLI::Range(1.0, 600.0));
  upload_cmd->add_flag("--list", up.list_only, "Only show the spool's state; upload nothing");
  upload_cmd->add_flag("--json", up.json, "One JSON object per measurement");
  upload_cmd->footer("Exit codes: 0 = every measurement acknowledged, 1 = some are kept for a later try, 2 = bad options.");

  auto* list_cmd = app.add_subcommand("list", "List past runs and their verdicts");
  std::string show_id;
  bool show_json = false;
  auto* show_cmd = app.add_subcommand("show", "Show one run (RUN_ID) or one measurement (RUN_ID/TEST_NAME) in detail");
  show_cmd->add_option("id", show_id, "RUN_ID or RUN_ID/TEST_NAME (see `vantage list`)")->required();
  show_cmd->add_flag("--json", show_json, "Print the raw measurement JSON");

  auto* catalog_cmd = app.add_subcommand("catalog", "Work with service catalogs");
  catalog_cmd->require_subcommand(1);
  std::string check_path;
  auto* check_cmd = catalog_cmd->add_subcommand("check", "Validate a catalog file or directory");
  check_cmd->add_option("path", check_path, "Catalog file or directory")->required();

  bool onboard_yes = false;
  auto* onboard_cmd = app.add_subcommand("onboard", "Read what running Vantage can mean for you, and agree (needed before `run`)");
  onboard_cmd->add_flag("--yes", onboard_yes, "Agree without questions (scripted installs): prints the notice, records consent");
  onboard_cmd->footer("Exit codes: 0 = agreed (recorded), 3 = not agreed, 1 = the agreement could not be recorded.");

  auto* schedule_cmd = app.add_subcommand("schedule", "Measure every few hours, unattended (systemd user timer or cron)");
  schedule_cmd->require_subcommand(1);
  std::string every = "6h", jitter = "30m";
  bool use_systemd = false, use_cron = false;
  auto* schedule_install_cmd = schedule_cmd->add_subcommand("install", "Schedule `vantage run --unattended`");
  schedule_install_cmd->add_option("--every", every, "Interval dividing the day: 1m..30m, 1h..12h, 1d")->capture_default_str();
  schedule_install_cmd->add_option("--jitter", jitter, "Random delay before each run, shorter than --every")->capture_default_str();
  auto* systemd_flag = schedule_install_cmd->add_flag("--systemd", use_systemd, "Use a systemd user timer (the default where one answers)");
  schedule_install_cmd->add_flag("--cron", use_cron, "Use your crontab")->excludes(systemd_flag);
  auto* schedule_status_cmd = schedule_cmd->add_subcommand("status", "What is scheduled, and how the last unattended run went");
  auto* schedule_remove_cmd = schedule_cmd->add_subcommand("remove", "Stop the scheduled runs");
  const char* schedule_codes =
      "Exit codes: 0 = done, 1 = the scheduler failed, 2 = bad --every/--jitter, 3 = consent not given,\n"
      "4 = scheduler not available (no crontab program, no user systemd with --systemd).";
  for (auto* c : {schedule_cmd, schedule_install_cmd, schedule_status_cmd, schedule_remove_cmd}) c->footer(schedule_codes);

  auto* config_cmd = app.add_subcommand("config", "Show, read or change the configuration file");
  config_cmd->require_subcommand(1);
  auto* config_show_cmd = config_cmd->add_subcommand("show", "Every setting, its value and the file it came from");
  std::string config_key, config_value;
  auto* config_get_cmd = config_cmd->add_subcommand("get", "Print one setting's value (exit 1 when it is not set)");
  config_get_cmd->add_option("key", config_key, "SECTION.KEY, e.g. collector.url")->required();
  auto* config_set_cmd = config_cmd->add_subcommand("set", "Set one value in the per-user file (or --config FILE), keeping the rest");
  config_set_cmd->add_option("key", config_key, "SECTION.KEY, e.g. collector.url")->required();
  config_set_cmd->add_option("value", config_value, "The value: a string, number, true/false or a,b,c for a list")->required();

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    app.exit(e);
    return 2;
  }
  if (*config_set_cmd) return cli::config_set(config_file, config_key, config_value, std::cout, std::cerr);
  if (*config_show_cmd) return cli::config_show(config_file, std::cout, std::cerr);
  if (*config_get_cmd) return cli::config_get(config_file, config_key, std::cout, std::cerr);
  if (*onboard_cmd) return onboard_command(onboard_yes);
  config::Settings settings;
  if (!cli::load_settings(config_file, settings, std::cerr)) return 2;
  if ((*run_cmd || (*upload_cmd && !up.list_only) || *schedule_install_cmd)) {
    auto consent = config::read_consent(config::user_config_dir());
    if (!consent.given) {
      std::cerr << "vantage: " << config::consent_missing_message(consent) << "\n";
      return 3;
    }
  }
  if (!results_dir_opt->count() && settings.run.data_dir) results_dir = *settings.run.data_dir;
  run.results_dir = results_dir;
  given.services = services_opt->count() > 0;
  given.catalog_dir = catalog_opt->count() > 0;
  given.ca_bundle = ca_bundle_opt->count() > 0;
  given.control_url = control_opt->count() > 0;
  given.timeout = timeout_opt->count() > 0;
  given.connect_timeout = connect_timeout_opt->count() > 0;
  given.parallelism = parallelism_opt->count() > 0;
  given.collector_url = collector_opt->count() > 0;
  given.upload = upload_opt->count() > 0;
  given.upload_proxy = proxy_opt->count() > 0;
  given.results_dir = true;  // settled above
  given.asn_db = asn_db_opt->count() > 0;
  given.country_db = country_db_opt->count() > 0;
  given.probe_asn = probe_asn_opt->count() > 0;
  given.probe_cc = probe_cc_opt->count() > 0;
  given.probe_network_name = probe_net_opt->count() > 0;
  cli::apply_settings(settings, given, run);
  if (!up_collector_opt->count() && settings.collector.url) up.collector_url = *settings.collector.url;
  if (!up_proxy_opt->count() && settings.collector.proxy) up.proxy = *settings.collector.proxy;
  if (*upload_cmd) {
    up.results_dir = results_dir;
    if (up.collector_url.empty() && !up.list_only) {
      std::cerr << "vantage: upload needs --collector URL (or --list)\n";
      return 2;
    }
    return cli::upload_command(up);
  }
  if (*run_cmd && run.upload && run.collector_url.empty()) {
    std::cerr << "vantage: --upload needs --collector URL\n";
    return 2;
  }
  if (*run_cmd) return unattended ? cli::run_unattended(run, unattended_options) : cli::run_exclusive(run);
  if (*schedule_install_cmd)
    return schedule_install(every, jitter, use_systemd ? "systemd" : use_cron ? "cron" : "", config_file,
                            results_dir_opt->count() ? results_dir : "");
  if (*schedule_remove_cmd) {
    auto o = config::remove_schedule();
    (o.code ? std::cerr << "vantage: " : std::cout) << o.message << "\n";
    return o.code;
  }
  if (*schedule_status_cmd) return schedule_status(results_dir);
  if (*list_cmd) return list_command(results_dir);
  if (*show_cmd) return show_command(results_dir, show_id, show_json);
  if (*check_cmd) return catalog_check(check_path);
  std::cout << app.help();
  return 0;
}
