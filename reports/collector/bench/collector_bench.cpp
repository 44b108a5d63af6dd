// Benchmark: collector ingest (measurements/s with 1, 8 and 32 concurrent
// uploaders) for each store, and the probe's upload throughput (spool →
// collector, one uploader). Starts its own vantage-collector on 127.0.0.1;
// ClickHouse is measured when it answers at $VANTAGE_CLICKHOUSE_URL
// (default clickhouse://127.0.0.1:8123; ci/start-clickhouse.sh). Prints
// figures; asserts nothing. Bounded: --count measurements per figure.
// Then the load test (load() below): 8 uploaders for --load-seconds with 30
// slowloris connections open, measurements/s, p99, exactly-once check.
//   collector_bench [--count N] [--load-seconds T]
#include <arpa/inet.h>
#include <curl/curl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <set>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
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

json measurement(long n, const std::string& asn = "AS30722") {
  return {{"data_format_version", "0.2.0"}, {"measurement_start_time", "2025-03-01 10:00:01"},
          {"test_start_time", "2025-03-01 10:00:00"}, {"probe_asn", asn}, {"probe_cc", "IT"},
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

std::string http_get(const std::string& url) {
  std::string out;
  CURL* curl = curl_easy_init();
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_NOPROXY, "*");
  curl_easy_setopt(curl, CURLOPT_TIMEOUT, 30L);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &out);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, +[](char* p, std::size_t s, std::size_t n, void* o) {
    static_cast<std::string*>(o)->append(p, s * n);
    return s * n;
  });
  if (curl_easy_perform(curl) != CURLE_OK) out.clear();
  curl_easy_cleanup(curl);
  return out;
}

// The load test: `uploaders` clients submit for `seconds` while `slow`
// connections from 127.0.0.2 trickle a request head a byte at a time
// (slowloris). Prints measurements/s and p99 latency, then checks every
// acknowledged measurement is stored exactly once under its UID.
void load(const std::string& name, const std::string& url, int port, int uploaders, double seconds, int slow) {
  static int round = 0;
  const std::string asn = "AS" + std::to_string(64500 + (++round));  // this run's rows only
  std::atomic<bool> stop{false};
  std::vector<int> slow_fds;
  for (int i = 0; i < slow; ++i) {
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in local{}, remote{};
    local.sin_family = remote.sin_family = AF_INET;
    inet_pton(AF_INET, "127.0.0.2", &local.sin_addr);
    bind(fd, reinterpret_cast<sockaddr*>(&local), sizeof local);
    remote.sin_port = htons(static_cast<uint16_t>(port));
    remote.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, reinterpret_cast<sockaddr*>(&remote), sizeof remote) == 0) slow_fds.push_back(fd);
    else close(fd);
  }
  std::thread drip([&] {
    const std::string head = "POST /report HTTP/1.1\r\nHost: x\r\nX-Slow: ";
    for (std::size_t k = 0; !stop; ++k) {
      for (int fd : slow_fds) send(fd, head.data() + k % head.size(), 1, MSG_NOSIGNAL | MSG_DONTWAIT);
      for (int i = 0; i < 10 && !stop; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  });
  std::mutex mu;
  std::vector<double> latencies_ms;
  std::map<long, std::string> acked;  // n -> uid
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  const auto start = Clock::now();
  const auto until = start + std::chrono::duration<double>(seconds);
  for (int t = 0; t < uploaders; ++t) {
    threads.emplace_back([&, t] {
      vantage::upload::ClientOptions o;
      o.collector_url = url;
      vantage::upload::CollectorClient client(o);
      auto opened = client.open_report(measurement(0, asn));
      if (!opened.failure.empty()) {
        ++failures;
        return;
      }
      for (long i = 0; Clock::now() < until; ++i) {
        const long n = static_cast<long>(t) * 1000000 + i;
        const auto t0 = Clock::now();
        auto r = client.submit(opened.report_id, measurement(n, asn));
        const double ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
        std::lock_guard lock(mu);
        latencies_ms.push_back(ms);
        if (r.failure.empty()) acked[n] = r.measurement_uid;
        else ++failures;
      }
    });
  }
  for (auto& th : threads) th.join();
  const double secs = std::chrono::duration<double>(Clock::now() - start).count();
  stop = true;
  drip.join();
  for (int fd : slow_fds) close(fd);
  std::sort(latencies_ms.begin(), latencies_ms.end());
  const double p99 = latencies_ms.empty() ? 0 : latencies_ms[std::min(latencies_ms.size() - 1, latencies_ms.size() * 99 / 100)];
  // Exactly once: the store's count for this run equals the acknowledged
  // count, and every acknowledged UID is among the stored ones.
  std::set<std::string> stored;
  std::string after;
  for (int pages = 0; pages < 100000; ++pages) {
    const json page = json::parse(http_get(url + "/api/v1/measurements?limit=1000&probe_asn=" + asn +
                                           (after.empty() ? "" : "&after=" + after)),
                                  nullptr, false);
    if (!page.is_object() || !page.contains("results")) break;
    for (const auto& row : page["results"]) stored.insert(row.value("measurement_uid", ""));
    if (!page.contains("next_after")) break;
    after = page["next_after"];
  }
  const json count = json::parse(http_get(url + "/api/v1/count?probe_asn=" + asn), nullptr, false);
  const long counted = count.is_object() ? count.value("count", -1L) : -1L;
  bool all_there = true;
  for (const auto& [n, uid] : acked) all_there = all_there && stored.count(uid);
  const bool exactly_once = all_there && counted == static_cast<long>(acked.size()) &&
                            stored.size() == acked.size();
  std::printf("%-10s  load: %d uploaders, %.0f s, %zu slowloris open: %8.0f measurements/s, p99 %.1f ms, "
              "%zu acknowledged, %d failed, stored exactly once: %s\n",
              name.c_str(), uploaders, seconds, slow_fds.size(), acked.size() / secs, p99, acked.size(),
              failures.load(), exactly_once ? "yes" : "NO");
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
  double load_seconds = 5;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (std::string(argv[i]) == "--count") count = std::max(32, std::atoi(argv[i + 1]));
    if (std::string(argv[i]) == "--load-seconds") load_seconds = std::max(1.0, std::atof(argv[i + 1]));
  }
  const char* env = std::getenv("VANTAGE_CLICKHOUSE_URL");
  const std::string ch = env && *env ? env : "clickhouse://127.0.0.1:8123";
  const fs::path sqlite = fs::temp_directory_path() / ("collector_bench_" + std::to_string(getpid()) + ".sqlite");
  const std::vector<std::pair<std::string, std::string>> stores = {
      {"sqlite", "sqlite:" + sqlite.string()}, {"clickhouse", ch + "/vantage_bench_" + std::to_string(getpid())}};
  std::printf("collector ingest, %d measurements of ~2.3 KB per figure (gzip bodies, loopback)\n", count);
  for (const auto& [name, url] : stores) {
    auto collector = std::make_unique<CollectorProcess>(url, std::vector<std::string>{"--rate", "0", "--workers", "8"});
    bool started = collector->start();
    std::string shown = name;
    if (!started && name == "clickhouse") {
      // A server that cannot fsync inserts (older than 20.x): measured, and said so.
      collector.reset();
      collector = std::make_unique<CollectorProcess>(url + "?unsynced=1",
                                                     std::vector<std::string>{"--rate", "0", "--workers", "8"});
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
    load(shown, collector->url(), collector->port(), 8, load_seconds, 30);
    const double up = upload_throughput(collector->url(), count / 2);
    if (up < 0) std::printf("%-10s  probe upload (spool → collector): failed\n", shown.c_str());
    else std::printf("%-10s  probe upload (spool → collector, 1 uploader, %d measurements): %.0f measurements/s\n",
                     shown.c_str(), count / 2, up);
    collector->terminate();
  }
  for (const char* suffix : {"", "-wal", "-shm"}) fs::remove(sqlite.string() + suffix);
  return 0;
}
