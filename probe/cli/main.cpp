// vantage: the command-line probe. Parses flags (CLI11) and dispatches to
// the commands; all measuring, judging and storing lives elsewhere.
// Exit codes: 0 measured (whatever the verdict), 1 the tool itself failed,
// 2 usage or input error.
#include <CLI/CLI.hpp>
#include <malloc.h>

#include <csignal>
#include <iostream>

#include "probe/catalog/catalog.h"
#include "probe/cli/results_store.h"
#include "probe/cli/run_command.h"
#include "probe/cli/summary_table.h"
#include "probe/cli/upload_command.h"

namespace {

using namespace vantage;

const char* kExitCodes =
    "Exit codes: 0 = measured (whatever the verdicts), 1 = the tool itself failed\n"
    "(e.g. results could not be saved), 2 = usage or input error (flags, catalog).";

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

}  // namespace

int main(int argc, char** argv) {
  // libcurl runs with CURLOPT_NOSIGNAL; a peer closing mid-write must be an
  // error value, not a killed process.
  std::signal(SIGPIPE, SIG_IGN);
  // Dozens of short-lived measuring threads would otherwise each get a malloc
  // arena of their own, and the probe's footprint would grow with them.
  mallopt(M_ARENA_MAX, 2);
  CLI::App app{
      "vantage: tests whether messaging services (WhatsApp, Signal, WeChat) are reachable from this network,\n"
      "and how they are blocked when they are not (DNS, TCP/IP, TLS, HTTP, throttling).\n\n"
      "Start with:  vantage run          (tests every service, prints a table, saves the results)\n"
      "Then:        vantage list         (past runs)   vantage show RUN_ID   (one run in detail)\n"};
  app.footer(kExitCodes);
  app.require_subcommand(0, 1);
  app.fallthrough();  // --results-dir may also follow the subcommand
  app.set_version_flag("--version", std::string("vantage ") + VANTAGE_VERSION);

  std::string results_dir = cli::default_results_dir();
  app.add_option("--results-dir", results_dir, "Where runs are saved")->capture_default_str();

  cli::RunOptions run;
  run.catalog_dir = catalog::default_catalog_dir();
  run.services = {"all"};
  auto* run_cmd = app.add_subcommand("run", "Measure services: all of them, or the ones named (whatsapp, signal, wechat)");
  run_cmd->add_option("services", run.services, "Services to test")->capture_default_str();
  run_cmd->add_option("--catalog", run.catalog_dir, "Directory of service catalogs (*.json)")->capture_default_str()->check(CLI::ExistingDirectory);
  run_cmd->add_option("--ca-bundle", run.ca_bundle, "Extra trusted CA certificates (PEM file)")->check(CLI::ExistingFile);
  run_cmd->add_option("--output,-o", run.output, "Also write the measurements (JSON Lines) to this file");
  run_cmd->add_option("--control", run.control_url, "Control vantage point (test helper) URL, to tell blocked from down");
  run_cmd->add_option("--timeout", run.timeout, "Deadline for the whole run, seconds")->capture_default_str()->check(CLI::Range(1.0, 3600.0));
  run_cmd->add_option("--connect-timeout", run.connect_timeout, "Timeout of one TCP connect, seconds")->capture_default_str()->check(CLI::Range(0.1, 120.0));
  run_cmd->add_option("--parallelism", run.parallelism, "How many endpoints are measured at once")->capture_default_str()->check(CLI::Range(1, 512));
  run_cmd->add_flag("!--no-capture", run.capture, "Don't capture packets (capture needs CAP_NET_RAW; without it the run goes on)");
  run_cmd->add_option("--capture-interface", run.capture_interface, "Interface to capture on")->capture_default_str();
  run_cmd->add_option("--pcap", run.pcap_file, "Also keep the raw capture in this file (mode 0600; it holds your addresses: never share it)");
  run_cmd->add_option("--collector", run.collector_url, "Collector to upload to after the run (with --upload); also asked for your public address before measuring");
  run_cmd->add_flag("--upload", run.upload, "Upload the measurements to --collector (you agree to publish them)");
  run_cmd->add_option("--proxy", run.upload_proxy, "Proxy for the upload and the public-address lookup: http://, https://, socks5:// or socks5h://HOST:PORT");
  run_cmd->add_option("--geoip-asn-db", run.location.asn_db, "MaxMind-format ASN database (GeoLite2-ASN, DB-IP ASN Lite) for probe_asn and probe_network_name");
  run_cmd->add_option("--geoip-country-db", run.location.country_db, "MaxMind-format country database for probe_cc (default: the ASN database, if it has countries)");
  run_cmd->add_option("--probe-asn", run.location.probe_asn, "Your network's ASN (e.g. AS3320), instead of looking it up");
  run_cmd->add_option("--probe-cc", run.location.probe_cc, "Your country code (e.g. DE), instead of looking it up");
  run_cmd->add_option("--probe-network-name", run.location.probe_network_name, "Your network's name, instead of looking it up");
  run_cmd->add_option("--resolver-echo-name", run.location.resolver_echo_name, "A name whose DNS server answers the address of the resolver asking (for resolver_ip/resolver_asn); default: the first nameserver in /etc/resolv.conf");
  run_cmd->add_flag("--json", run.json, "Print the measurements as JSON Lines instead of the table");
  run_cmd->add_flag("!--no-progress", run.progress, "Don't show what is being tested");

  cli::UploadOptions up;
  auto* upload_cmd = app.add_subcommand("upload", "Upload saved measurements no collector has acknowledged yet; show what happened to each");
  upload_cmd->add_option("--collector", up.collector_url, "Collector URL (http:// or https://)");
  upload_cmd->add_option("--ca-bundle", up.ca_bundle, "Trust this PEM CA bundle instead of the system roots")->check(CLI::ExistingFile);
  upload_cmd->add_option("--proxy", up.proxy, "Proxy: http://, https://, socks5:// or socks5h://HOST:PORT");
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
  run.results_dir = results_dir;
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
  if (*run_cmd) return cli::run_command(run);
  if (*list_cmd) return list_command(results_dir);
  if (*show_cmd) return show_command(results_dir, show_id, show_json);
  if (*check_cmd) return catalog_check(check_path);
  std::cout << app.help();
  return 0;
}
