// Benchmark: collector ingest (measurements/s with 1, 8 and 32 concurrent
// uploaders) for each store, and the probe's upload throughput (spool →
// collector, one uploader). Starts its own vantage-collector on 127.0.0.1;
// ClickHouse is measured when it answers at $VANTAGE_CLICKHOUSE_URL
// (default clickhouse://127.0.0.1:8123; ci/start-clickhouse.sh). Prints
// figures; asserts nothing. Bounded: --count measurements per figure.
//   collector_bench [--count N]
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "probe/spool/spool.h"
#include "probe/upload/collector_client.h"
#include "probe/upload/uploader.h"
#include "reports/collector/tests/collector_process.h"

namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using Clock = std::chrono::steady_clock;
using vantage::collector::testing::CollectorProcess;

json measurement(long n) {
  return {{"data_format_version", "0.2.0"}, {"measurement_start_time", "2025-03-01 10:00:01"},
          {"test_start_time", "2025-03-01 10:00:00"}, {"probe_asn", "AS30722"}, {"probe_cc", "IT"},
          {"probe_ip", "127.0.0.1"}, {"software_name", "vantage"}, {"software_version", "0.1.0"},
          {"test_name", "signal"}, {"test_version", "0.1.0"}, {"test_runtime", 1.0},
          {"test_keys", {{"n", n}, {"signal_backend_status", "ok"}, {"padding", std::string(2000, 'x')}}}};
}

// `uploaders` threads, each with its own client and report, submit `count`
// measurements in all. Returns measurements/s, or -1 on any failure.
double ingest(const std::string& url, int uploaders, int count, long& serial) {
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  const int per = count / uploaders;
  const long base = serial;
  serial += static_cast<long>(per) * uploaders;
  const auto start = Clock::now();
  for (int t = 0; t < uploaders; ++t) {
    threads.emplace_back([&, t] {
      vantage::upload::ClientOptions o;
      o.collector_url = url;
      vantage::upload::CollectorClient client(o);
      auto opened = client.open_report(measurement(0));
      if (!opened.failure.empty()) {
        ++failures;
        return;
      }
      for (int i = 0; i < per; ++i) {
        auto r = client.submit(opened.report_id, measurement(base + static_cast<long>(t) * per + i));
        if (!r.failure.empty()) ++failures;
      }
    });
  }
  for (auto& th : threads) th.join();
  const double secs = std::chrono::duration<double>(Clock::now() - start).count();
  if (failures) return -1;
  return per * uploaders / secs;
}

double upload_throughput(const std::string& url, int count) {
  const fs::path dir = fs::temp_directory_path() / ("collector_bench_spool_" + std::to_string(getpid()));
  fs::remove_all(dir);
  std::string error;
  auto spool = vantage::spool::Spool::open(dir.string(), error);
  if (!spool) return -1;
  for (int i = 0; i < count; ++i) {
    std::string id;
    if (!spool->add(measurement(1000000000L + i), id).empty()) return -1;
  }
  vantage::upload::ClientOptions o;
  o.collector_url = url;
  const auto start = Clock::now();
  auto summary = vantage::upload::upload_pending(*spool, o);
  const double secs = std::chrono::duration<double>(Clock::now() - start).count();
  fs::remove_all(dir);
  if (summary.uploaded != count) return -1;
  return count / secs;
}

}  // namespace

int main(int argc, char** argv) {
  int count = 1000;
  if (argc == 3 && std::string(argv[1]) == "--count") count = std::max(32, std::atoi(argv[2]));
  const char* env = std::getenv("VANTAGE_CLICKHOUSE_URL");
  const std::string ch = env && *env ? env : "clickhouse://127.0.0.1:8123";
  const fs::path sqlite = fs::temp_directory_path() / ("collector_bench_" + std::to_string(getpid()) + ".sqlite");
  const std::vector<std::pair<std::string, std::string>> stores = {
      {"sqlite", "sqlite:" + sqlite.string()}, {"clickhouse", ch + "/vantage_bench_" + std::to_string(getpid())}};
  std::printf("collector ingest, %d measurements of ~2.3 KB per figure (gzip bodies, loopback)\n", count);
  for (const auto& [name, url] : stores) {
    auto collector = std::make_unique<CollectorProcess>(url, std::vector<std::string>{"--rate", "0", "--threads", "8"});
    bool started = collector->start();
    std::string shown = name;
    if (!started && name == "clickhouse") {
      // A server that cannot fsync inserts (older than 20.x): measured, and said so.
      collector.reset();
      collector = std::make_unique<CollectorProcess>(url + "?unsynced=1",
                                                     std::vector<std::string>{"--rate", "0", "--threads", "8"});
      started = collector->start();
      shown = "ch-unsync";
    }
    if (!started) {
      std::printf("%-10s  not measured: the collector did not start with --store %s (is the server up?)\n",
                  shown.c_str(), url.c_str());
      continue;
    }
    long serial = 0;
    for (int uploaders : {1, 8, 32}) {
      const double rate = ingest(collector->url(), uploaders, count, serial);
      if (rate < 0) std::printf("%-10s  %2d uploaders: failed\n", shown.c_str(), uploaders);
      else std::printf("%-10s  %2d uploaders: %8.0f measurements/s\n", shown.c_str(), uploaders, rate);
    }
    const double up = upload_throughput(collector->url(), count / 2);
    if (up < 0) std::printf("%-10s  probe upload (spool → collector): failed\n", shown.c_str());
    else std::printf("%-10s  probe upload (spool → collector, 1 uploader, %d measurements): %.0f measurements/s\n",
                     shown.c_str(), count / 2, up);
    collector->terminate();
  }
  for (const char* suffix : {"", "-wal", "-shm"}) fs::remove(sqlite.string() + suffix);
  return 0;
}
