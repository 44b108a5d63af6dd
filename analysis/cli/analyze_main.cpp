// vantage-analyze: scores and aggregates measurements from JSON Lines
// files, directories, gzip files, or a collector's SQLite or ClickHouse
// store; writes JSON and CSV, prints a summary table, and writes the
// dashboard's data directory (`vantage-analyze dashboard --out DIR`).
// Exit codes: 0 ok, 1 an input could not be read or an output written,
// 2 bad flags.
#include <CLI/CLI.hpp>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>

#include "analysis/aggregate/dashboard_data.h"
#include "analysis/dashboard/site.h"
#include "analysis/aggregate/ingest.h"

using namespace vantage::analysis;
using nlohmann::json;

namespace {

struct Options {
  std::vector<std::string> inputs;
  Filters filters;
  std::string json_out, csv_out, csv_networks_out, csv_changes_out;
  bool rescore = false, quiet = false;
  std::string out_dir, site_dir;
};

void add_common(CLI::App* app, Options& o) {
  app->add_option("inputs", o.inputs,
                  "JSON Lines files (.jsonl, .gz), directories, sqlite:PATH or clickhouse://HOST:PORT[/DB]")
      ->required();
  app->add_option("--since", o.filters.since, "first day (YYYY-MM-DD, UTC, inclusive)");
  app->add_option("--until", o.filters.until, "last day (YYYY-MM-DD, UTC, inclusive)");
  app->add_option("--cc", o.filters.probe_cc, "probe country (e.g. IR)");
  app->add_option("--asn", o.filters.probe_asn, "probe network (e.g. AS12345)");
  app->add_option("--service", o.filters.service, "service / test name (e.g. whatsapp)");
  app->add_flag("--rescore", o.rescore, "re-run the verdict on Vantage measurements instead of reading the recorded one");
  app->add_flag("-q,--quiet", o.quiet, "no progress line, no summary table");
}

// A progress line on stderr once an input takes longer than a second.
struct Progress {
  std::chrono::steady_clock::time_point start = std::chrono::steady_clock::now(), last = start;
  bool tty = isatty(STDERR_FILENO), shown = false;
  void operator()(const IngestStats& s) {
    auto now = std::chrono::steady_clock::now();
    const double elapsed = std::chrono::duration<double>(now - start).count();
    const double since_last = std::chrono::duration<double>(now - last).count();
    if (elapsed < 1 || since_last < (tty ? 0.5 : 10)) return;
    last = now;
    shown = true;
    std::fprintf(stderr, "%sread %.1f MB, %llu measurements (%.0f MB/s)%s", tty ? "\r\033[K" : "",
                 static_cast<double>(s.bytes) / 1e6, static_cast<unsigned long long>(s.measurements),
                 static_cast<double>(s.bytes) / 1e6 / elapsed, tty ? "" : "\n");
  }
  void done() {
    if (shown && tty) std::fprintf(stderr, "\r\033[K");
  }
};

std::string write_text(const std::string& path, const std::string& text) {
  if (path.empty()) return "";
  if (path == "-") {
    std::cout << text;
    return "";
  }
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
  out.flush();
  return out ? "" : path + ": cannot write";
}

void print_summary(const json& a, const IngestStats& s) {
  const auto& t = a["totals"];
  std::printf("%lld measurements (%lld scored, %lld unscorable), %lld probe-days, %s .. %s",
              t["measurements"].get<long long>(), t["scored"].get<long long>(), t["unscorable"].get<long long>(),
              t["probes"].get<long long>(), t["first_day"].is_string() ? t["first_day"].get<std::string>().c_str() : "-",
              t["last_day"].is_string() ? t["last_day"].get<std::string>().c_str() : "-");
  if (s.malformed) std::printf("; %llu malformed lines skipped", static_cast<unsigned long long>(s.malformed));
  std::printf("\n\n%-4s %-10s %-20s %8s %7s %9s %-11s %-11s %s\n", "cc", "asn", "service", "measured", "probes",
              "blocked%", "first_blk", "last_blk", "methods");
  int shown = 0;
  for (const auto& n : a["networks"]) {
    if (!n["feature"].get<std::string>().empty()) continue;
    if (++shown > 40) {
      std::printf("... (the JSON and CSV have every network)\n");
      break;
    }
    std::string methods;
    for (const auto& [m, c] : n["methods"].items()) methods += (methods.empty() ? "" : ",") + m + "=" + c.dump();
    char rate[16] = "-";
    if (n["blocking_rate"].is_number()) std::snprintf(rate, sizeof rate, "%.1f", n["blocking_rate"].get<double>() * 100);
    std::printf("%-4s %-10s %-20s %8lld %7lld %9s %-11s %-11s %s\n", n["probe_cc"].get<std::string>().c_str(),
                n["probe_asn"].get<std::string>().c_str(), n["service"].get<std::string>().c_str(),
                n["measurements"].get<long long>(), n["probes"].get<long long>(), rate,
                n["first_blocked"].is_string() ? n["first_blocked"].get<std::string>().c_str() : "-",
                n["last_blocked"].is_string() ? n["last_blocked"].get<std::string>().c_str() : "-", methods.c_str());
  }
  if (!a["change_points"].empty()) {
    std::printf("\nchange points:\n");
    for (const auto& c : a["change_points"])
      std::printf("  %s (rate %.2f -> %.2f; %lld measurements, %lld probe-days)\n", c["text"].get<std::string>().c_str(),
                  c["rate_before"].get<double>(), c["rate_after"].get<double>(), c["measurements"].get<long long>(),
                  c["probes"].get<long long>());
  }
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"vantage-analyze: score and aggregate censorship measurements (Vantage's and OONI's)"};
  app.require_subcommand(0, 1);
  Options o;
  add_common(&app, o);
  app.add_option("--json", o.json_out, "write aggregates.json here (- = stdout)");
  app.add_option("--csv", o.csv_out, "write the daily rows as CSV here");
  app.add_option("--csv-networks", o.csv_networks_out, "write the per-network rows as CSV here");
  app.add_option("--csv-changes", o.csv_changes_out, "write the change points as CSV here");
  Options d;
  auto* dash = app.add_subcommand("dashboard", "write the dashboard (DIR/data/ and its pages) for these measurements");
  add_common(dash, d);
  dash->add_option("--out", d.out_dir, "output directory")->required();
  dash->add_option("--site", d.site_dir, "the dashboard's built static pages to copy (default: the build's)");
  // The inputs belong to the subcommand when it is given.
  app.get_option("inputs")->required(false);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int code = app.exit(e);
    return code == 0 ? 0 : 2;
  }
  const bool dashboard = dash->parsed();
  Options& opt = dashboard ? d : o;
  if (opt.inputs.empty()) {
    std::cerr << "vantage-analyze: no input given (files, directories, sqlite:PATH or clickhouse://...)\n";
    return 2;
  }
  if (auto err = opt.filters.validate(); !err.empty()) {
    std::cerr << "vantage-analyze: --" << err << "\n";
    return 2;
  }
  IngestOptions io;
  io.filters = opt.filters;
  io.rescore = opt.rescore;
  io.keep_bodies = dashboard;
  io.index_limit = dashboard ? 5000 : 0;
  Progress progress;
  if (!opt.quiet) io.progress = [&](const IngestStats& s) { progress(s); };
  Ingest ingest(io);
  int code = 0;
  for (const auto& in : opt.inputs) {
    if (auto err = ingest.add_input(in); !err.empty()) {
      progress.done();
      std::cerr << "vantage-analyze: " << err << "\n";
      code = 1;
    }
  }
  progress.done();
  const json aggregates = ingest.aggregator().to_json(opt.filters, utc_now_iso());
  auto check = [&](const std::string& err) {
    if (!err.empty()) std::cerr << "vantage-analyze: " << err << "\n", code = 1;
  };
  if (dashboard) {
    check(write_dashboard_data(d.out_dir, aggregates, ingest.index()));
    // --site, else this build's pages, else the installed ones.
    std::string site = d.site_dir.empty() ? vantage::dashboard::default_assets_dir() : d.site_dir;
    // The dashboard's pages come from their own build target; without them
    // only DIR/data/ is written (and said so).
    if (site.empty()) std::cerr << "vantage-analyze: no dashboard pages built; wrote " << d.out_dir << "/data only\n";
    else check(write_dashboard_site(d.out_dir, site));
  } else {
    check(write_text(o.json_out, aggregates.dump(1)));
    check(write_text(o.csv_out, Aggregator::daily_csv(aggregates)));
    check(write_text(o.csv_networks_out, Aggregator::networks_csv(aggregates)));
    check(write_text(o.csv_changes_out, Aggregator::change_points_csv(aggregates)));
  }
  if (!opt.quiet && o.json_out != "-") print_summary(aggregates, ingest.stats());
  return code;
}
