// `vantage run`. See run_command.h.
#include "probe/cli/run_command.h"

#include <unistd.h>

#include <atomic>
#include <csignal>
#include <cstdio>
#include <ctime>
#include <future>
#include <iostream>
#include <memory>
#include <random>
#include <set>

#include "probe/catalog/catalog.h"
#include "probe/cli/architecture.h"
#include "probe/cli/results_store.h"
#include "probe/cli/summary_table.h"
#include "probe/cli/upload_command.h"
#include "probe/cli/where_am_i.h"
#include "probe/location/public_address.h"
#include "probe/capture/capture_session.h"
#include "probe/control/control_client.h"
#include "probe/engine/engine.h"
#include "probe/testkeys/testkeys.h"
#include "reports/format/measurement.h"
#include "reports/format/vocabulary.h"

namespace vantage::cli {

using nlohmann::json;

namespace {

std::atomic<bool> g_interrupted{false};

void on_sigint(int) {
  if (g_interrupted.exchange(true)) _exit(130);  // second Ctrl-C: leave now
  const char msg[] = "\ninterrupted: finishing the steps in flight and saving what was measured (Ctrl-C again to quit now)\n";
  (void)!write(2, msg, sizeof msg - 1);
}

std::string run_id(std::chrono::system_clock::time_point t) {
  std::random_device rd;
  char suffix[8];
  std::snprintf(suffix, sizeof suffix, "%04x", rd() & 0xffff);
  return format::utc_time(t, "%Y%m%dT%H%M%SZ") + "-" + suffix;
}

json ask_control(const std::string& url, const json& request, std::chrono::milliseconds left) {
  control::ControlQuery q;
  // The engine's own request (format::to_json): never malformed, but a
  // parse error would still be an answer, not a crash.
  if (std::string error = format::parse_control_request(request, q); !error.empty())
    return json{{"failure", "unknown_failure: " + error}};
  // The control is trusted through the system store: --ca-bundle is about
  // the measured services, and as a CA file it would replace the system's.
  auto answer = control::ask_control(url, q, std::min<std::chrono::milliseconds>(std::chrono::seconds(20), left));
  if (!answer.failure.empty()) {
    json f{{"failure", answer.failure}};
    if (!answer.error.empty()) f["error"] = answer.error;
    return f;
  }
  return answer.answer;
}

// The part of the run's capture that concerns one service: its endpoints'
// anomalies and flows (the capture is per run, measurements per service).
json capture_for_service(const json& x_capture, const engine::ServiceObservations& obs) {
  json out = x_capture;
  if (!x_capture.value("enabled", false)) return out;
  std::set<std::string> mine;
  for (const auto& ep : obs.endpoints) {
    mine.insert(ep.endpoint);
    mine.insert(ep.host);
  }
  for (const char* list : {"anomalies", "flows"}) {
    json kept = json::array();
    for (const auto& a : x_capture.value(list, json::array()))
      if (mine.count(a.value("endpoint", ""))) kept.push_back(a);
    out[list] = kept;
  }
  return out;
}

}  // namespace

void apply_settings(const config::Settings& s, const RunFlagsGiven& given, RunOptions& run) {
  if (!given.services && s.run.services) run.services = *s.run.services;
  if (!given.catalog_dir && s.run.catalog_dir) run.catalog_dir = *s.run.catalog_dir;
  if (!given.ca_bundle && s.run.ca_bundle) run.ca_bundle = *s.run.ca_bundle;
  if (!given.control_url && s.control.url) run.control_url = *s.control.url;
  if (!given.timeout && s.run.timeout) run.timeout = *s.run.timeout;
  if (!given.connect_timeout && s.run.connect_timeout) run.connect_timeout = *s.run.connect_timeout;
  if (!given.parallelism && s.run.parallelism) run.parallelism = *s.run.parallelism;
  if (!given.results_dir && s.run.data_dir) run.results_dir = *s.run.data_dir;
  if (!given.upload_proxy && s.collector.proxy) run.upload_proxy = *s.collector.proxy;
  if (!given.collector_url && s.collector.url) run.collector_url = *s.collector.url;
  // A collector in the file is the volunteer's standing choice to publish.
  if (!given.upload) run.upload = s.collector.upload.value_or(s.collector.url.has_value()) && !run.collector_url.empty();
  const auto& l = s.location;
  if (!given.asn_db && l.asn_db) run.location.asn_db = *l.asn_db;
  if (!given.country_db && l.country_db) run.location.country_db = *l.country_db;
  if (!given.probe_asn && l.probe_asn) run.location.probe_asn = *l.probe_asn;
  if (!given.probe_cc && l.probe_cc) run.location.probe_cc = *l.probe_cc;
  if (!given.probe_network_name && l.probe_network_name) run.location.probe_network_name = *l.probe_network_name;
}

int run_command(const RunOptions& o) {
  auto loaded = catalog::load_catalog_dir(o.catalog_dir);
  if (!loaded.ok()) {
    for (const auto& e : loaded.errors) std::cerr << "vantage: catalog error: " << e.to_string() << "\n";
    return 2;
  }
  const auto& cat = loaded.catalog;
  std::vector<std::string> names;
  for (const auto& s : o.services) {
    if (s == "all") {
      for (const auto& svc : cat.services)
        if (!svc.canary) names.push_back(svc.name);
    } else if (const auto* svc = cat.find(s); svc && !svc->canary) {
      names.push_back(s);
    } else {
      std::string known;
      for (const auto& svc : cat.services)
        if (!svc.canary) known += " " + svc.name;
      std::cerr << "vantage: unknown service \"" << s << "\" (the catalog in " << o.catalog_dir << " has:" << known << ")\n";
      return 2;
    }
  }
  std::set<std::string> seen;
  std::erase_if(names, [&](const std::string& n) { return !seen.insert(n).second; });
  if (!o.ca_bundle.empty() && access(o.ca_bundle.c_str(), R_OK) != 0) {
    std::cerr << "vantage: --ca-bundle " << o.ca_bundle << ": cannot read the file\n";
    return 2;
  }
  if (!o.control_url.empty() && o.control_url.rfind("http://", 0) != 0 && o.control_url.rfind("https://", 0) != 0) {
    std::cerr << "vantage: --control must be an http:// or https:// URL, got \"" << o.control_url << "\"\n";
    return 2;
  }

  if (auto err = location::check_location_options(o.location); !err.empty()) {
    std::cerr << "vantage: " << err << "\n";
    return 2;
  }

  engine::EngineOptions eo;
  eo.parallelism = o.parallelism;
  eo.deadline = std::chrono::milliseconds(static_cast<int64_t>(o.timeout * 1000));
  eo.connect_timeout = std::chrono::milliseconds(static_cast<int64_t>(o.connect_timeout * 1000));
  eo.ca_bundle = o.ca_bundle;
  eo.interrupted = &g_interrupted;
  if (!o.control_url.empty()) {
    eo.control_url = o.control_url;
    eo.control = [&](const json& req, std::chrono::milliseconds left) { return ask_control(o.control_url, req, left); };
  }
  bool show_progress = o.progress && isatty(STDERR_FILENO);
  if (show_progress)
    eo.progress = [](const std::string&, const std::string& what, const std::string& failure) {
      std::cerr << "\r\033[K  tested " << what << (failure.empty() ? " ok" : " " + failure) << std::flush;
    };

  struct sigaction sa {};
  sa.sa_handler = on_sigint;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);

  if (show_progress) {
    std::cerr << "vantage: testing";
    for (const auto& n : names) std::cerr << " " << n;
    std::cerr << " (deadline " << o.timeout << " s)\n";
  }
  std::unique_ptr<capture::CaptureSession> capture;
  std::string capture_reason = "disabled with --no-capture";
  if (o.capture) {
    capture::CaptureOptions co;
    co.interface = o.capture_interface;
    co.pcap_file = o.pcap_file;
    // The probe's own flows peak at a few thousand packets a second, read
    // as they come: a 1 MB ring is enough (x_capture.dropped says if not)
    // and keeps the probe's footprint small.
    co.buffer_bytes = 1 << 20;
    capture = capture::CaptureSession::open(co, capture_reason);
    if (!capture && !o.pcap_file.empty()) {
      std::cerr << "vantage: --pcap " << o.pcap_file << ": capture is not possible: " << capture_reason << "\n";
      return 2;
    }
  }
  eo.capture = capture.get();

  // While measuring: where this probe is, and its public address, which is
  // scrubbed from everything this run writes (nothing is written before the
  // lookup is in). An unreachable collector costs its whoami timeout once,
  // in parallel, not before the first test.
  auto locating = std::async(std::launch::async, [&o] {
    return where_am_i(o.location, o.collector_url, o.upload_proxy,
                      std::chrono::milliseconds(static_cast<int64_t>(o.whoami_timeout * 1000)));
  });

  auto result = engine::run(cat, names, eo);
  const WhereAmI where = locating.get();
  signal(SIGINT, SIG_DFL);  // measuring is over: Ctrl-C now simply quits
  signal(SIGTERM, SIG_DFL);
  json x_capture;
  if (capture) {
    double offset = std::chrono::duration<double>(result.start_time - capture->origin()).count();
    x_capture = capture->finish(offset);
  } else {
    x_capture = capture::capture_disabled_json(capture_reason);
  }
  if (show_progress) std::cerr << "\r\033[K";

  json canary = json{{"status", "absent"}, {"throughput_kbps", nullptr}, {"endpoints", json::array()}};
  if (const auto* c = cat.canary(); c && result.services.count(c->name)) canary = testkeys::canary_summary(result.services[c->name]);

  auto addresses = location::machine_addresses();
  if (!where.public_ip.empty()) addresses.push_back(where.public_ip);
  std::vector<json> measurements;
  for (const auto& name : names) {
    const auto* svc = cat.find(name);
    format::Envelope env;
    env.test_name = svc->test_name;
    env.test_version = svc->test_version;
    env.software_version = VANTAGE_VERSION;
    env.test_start_time = result.start_time;
    env.measurement_start_time = result.start_time;
    env.test_runtime = result.runtime;
    env.annotations = {{"architecture", host_architecture()}, {"engine_name", "vantage"}, {"engine_version", VANTAGE_VERSION},
                       {"platform", "linux"}};
    if (result.interrupted) env.annotations["x_interrupted"] = "true";
    apply_location(env, where);
    if (!o.control_url.empty()) env.test_helpers = {{"control", {{"address", o.control_url}, {"type", "https"}}}};
    json keys = testkeys::build_test_keys(*svc, result.services[name], canary,
                                          capture_for_service(x_capture, result.services[name]));
    if (result.interrupted) keys["failure"] = vocab::kInterrupted;
    json m = format::make_measurement(env, std::move(keys));
    format::scrub_addresses(m, addresses);
    measurements.push_back(std::move(m));
    // Its observations are in the measurement now: a run's memory peaks
    // here, with both held (names are unique, the canary summed up above).
    result.services.erase(name);
  }

  std::string results_dir = o.results_dir.empty() ? default_results_dir() : o.results_dir;
  std::string id = run_id(result.start_time);
  std::string path = results_dir + "/" + id + ".jsonl";
  int code = 0;
  if (auto err = write_jsonl_atomically(path, measurements); !err.empty()) {
    std::cerr << "vantage: " << err << "\n";
    code = 1;
  }
  // The spool is what `vantage upload` drains; it never loses a measurement
  // a collector has not acknowledged.
  if (auto err = spool_measurements(results_dir, measurements); !err.empty()) {
    std::cerr << "vantage: spool: " << err << "\n";
    code = 1;
  }
  if (!o.output.empty()) {
    if (auto err = write_jsonl_atomically(o.output, measurements); !err.empty()) {
      std::cerr << "vantage: " << err << "\n";
      code = 1;
    }
  }
  if (o.json) {
    for (const auto& m : measurements) std::cout << m.dump(-1, ' ', false, json::error_handler_t::replace) << "\n";
  } else {
    std::cout << summary_table(measurements);
    char secs[32];
    std::snprintf(secs, sizeof secs, "%.1f", result.runtime);
    std::cout << "\n" << location_summary(where) << "\n";
    const std::string ipv6 = ipv6_summary(measurements);
    std::cout << (result.interrupted ? "interrupted after " : "measured in ") << secs << " s"
              << (ipv6.empty() ? "" : " (" + ipv6 + ")") << "; run "
              << id << " saved to " << path << " (`vantage show " << id << "` for details)\n";
  }
  if (o.upload) {
    // Not the run's --ca-bundle: that one is for the measured services.
    UploadOptions up;
    up.results_dir = results_dir;
    up.collector_url = o.collector_url;
    up.proxy = o.upload_proxy;
    up.respect_backoff = true;
    up.learn_public_address = false;  // learnt before measuring
    up.scrub_addresses = addresses;
    int up_code = upload_command(up);
    if (o.report) o.report->upload_code = up_code;
    if (up_code != 0)
      std::cerr << "vantage: some measurements were not uploaded; they are kept (`vantage upload` retries)\n";
  }
  if (o.report) {
    o.report->run_id = id;
    o.report->measurements = static_cast<int>(measurements.size());
  }
  return code;
}

}  // namespace vantage::cli
