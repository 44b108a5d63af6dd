// The live dashboard data's cache: served again until the store changes or
// the entry ages out; one computation per key however many ask; a bounded
// number of store scans at once, and 503 rather than an unbounded wait.
#include "analysis/aggregate/dashboard_cache.h"

#include <gtest/gtest.h>

#include <atomic>
#include <future>
#include <thread>
#include <vector>

namespace vantage::analysis {
namespace {

using namespace std::chrono_literals;

DashboardRequest get(const std::string& path, std::map<std::string, std::string> query = {}) {
  return {"GET", path, std::move(query)};
}

const std::string kAggregates = "/dashboard/data/aggregates.json";

TEST(DashboardCache, ServedAgainUntilTheStoreChanges) {
  std::atomic<int> scans{0};
  std::atomic<std::uint64_t> generation{0};
  DashboardCache cache(
      [&](const DashboardRequest& r) {
        ++scans;
        return DashboardResponse{200, "application/json", r.path + " #" + std::to_string(scans.load()), {}};
      },
      [&] { return generation.load(); });
  EXPECT_EQ(cache.get(get(kAggregates)).body, kAggregates + " #1");
  EXPECT_EQ(cache.get(get(kAggregates)).body, kAggregates + " #1");
  // A parameter the data does not depend on shares the entry (no cache busting).
  EXPECT_EQ(cache.get(get(kAggregates, {{"nonce", "123"}})).body, kAggregates + " #1");
  EXPECT_EQ(scans.load(), 1);
  // Other filters: another entry.
  EXPECT_EQ(cache.get(get(kAggregates, {{"probe_cc", "IR"}})).body, kAggregates + " #2");
  ++generation;  // a measurement was stored
  EXPECT_EQ(cache.get(get(kAggregates)).body, kAggregates + " #3");
  EXPECT_EQ(cache.stats().hits, 2u);
  // Single measurements are not cached.
  cache.get(get("/dashboard/data/measurements/abc.json"));
  cache.get(get("/dashboard/data/measurements/abc.json"));
  EXPECT_EQ(scans.load(), 5);
}

TEST(DashboardCache, AgesOutAndKeepsOnlySuccesses) {
  int scans = 0;
  int status = 503;
  DashboardCacheOptions o;
  o.max_age = 1s;
  DashboardCache cache(
      [&](const DashboardRequest&) {
        ++scans;
        return DashboardResponse{status, "application/json", "{}", {}};
      },
      [] { return std::uint64_t{0}; }, o);
  EXPECT_EQ(cache.get(get(kAggregates)).status, 503);
  status = 200;
  EXPECT_EQ(cache.get(get(kAggregates)).status, 200);
  EXPECT_EQ(scans, 2) << "a failed answer was cached";
  cache.get(get(kAggregates));
  EXPECT_EQ(scans, 2);
  std::this_thread::sleep_for(1100ms);
  cache.get(get(kAggregates));
  EXPECT_EQ(scans, 3) << "an entry older than max_age was served";
}

TEST(DashboardCache, EntriesAndBytesAreBounded) {
  DashboardCacheOptions o;
  o.max_entries = 3;
  o.max_bytes = 2500;
  DashboardCache cache([](const DashboardRequest&) { return DashboardResponse{200, "", std::string(1000, 'x'), {}}; },
                       [] { return std::uint64_t{0}; }, o);
  for (const char* cc : {"AA", "BB", "CC", "DD", "EE"}) cache.get(get(kAggregates, {{"probe_cc", cc}}));
  const auto s = cache.stats();
  EXPECT_LE(s.entries, 2u);
  EXPECT_LE(s.bytes, 2500u);
  // The most recent is kept.
  cache.get(get(kAggregates, {{"probe_cc", "EE"}}));
  EXPECT_EQ(cache.stats().hits, 1u);
}

TEST(DashboardCache, OneScanPerKeyAndBoundedScansAtOnce) {
  std::atomic<int> scans{0}, running{0}, most{0};
  DashboardCacheOptions o;
  o.max_computing = 2;
  o.wait_limit = 600ms;
  DashboardCache cache(
      [&](const DashboardRequest&) {
        ++scans;
        const int now = ++running;
        int seen = most.load();
        while (now > seen && !most.compare_exchange_weak(seen, now)) {
        }
        std::this_thread::sleep_for(300ms);
        --running;
        return DashboardResponse{200, "", "{}", {}};
      },
      [] { return std::uint64_t{0}; }, o);
  // Eight clients, one key: one scan.
  std::vector<std::future<int>> same;
  for (int i = 0; i < 8; ++i)
    same.push_back(std::async(std::launch::async, [&] { return cache.get(get(kAggregates)).status; }));
  for (auto& f : same) EXPECT_EQ(f.get(), 200);
  EXPECT_EQ(scans.load(), 1);
  // Eight keys at once: never more than two scans; those that cannot start
  // within the wait limit are refused with Retry-After.
  std::vector<std::future<DashboardResponse>> many;
  for (int i = 0; i < 8; ++i)
    many.push_back(std::async(std::launch::async,
                              [&, i] { return cache.get(get(kAggregates, {{"probe_asn", "AS" + std::to_string(i)}})); }));
  int ok = 0, refused = 0;
  for (auto& f : many) {
    const DashboardResponse r = f.get();
    if (r.status == 200) ++ok;
    if (r.status == 503) {
      ++refused;
      ASSERT_FALSE(r.headers.empty());
      EXPECT_EQ(r.headers[0].first, "Retry-After");
    }
  }
  EXPECT_EQ(ok + refused, 8);
  EXPECT_GE(ok, 2);
  EXPECT_GE(refused, 1);
  EXPECT_LE(most.load(), 2);
}

}  // namespace
}  // namespace vantage::analysis
