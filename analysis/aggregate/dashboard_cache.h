// A bounded cache in front of the live dashboard data (dashboard_data.h).
//
// Every /dashboard/data/aggregates.json or index.json computed live reads
// the whole store; without a cache a page view costs a store scan per
// document, and anybody on the Internet can keep the collector's workers
// scanning. So:
//   - an answer is kept per (path, filters) and served again until the store
//     changes (the caller's generation counter, bumped on every stored
//     measurement) or max_age passes (another collector writing to the same
//     ClickHouse store bumps no counter here);
//   - concurrent requests for the same key wait for one computation (single
//     flight), and at most max_computing different keys are computed at
//     once; a request beyond that waits up to wait_limit, then gets 503 with
//     Retry-After (never an unbounded queue of store scans);
//   - at most max_entries answers and max_bytes of bodies are kept; the
//     least recently used go first. Only 200 answers are kept.
// Thread-safe. Measurement documents (by id) are one indexed lookup and go
// straight through.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <list>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>

#include "analysis/aggregate/dashboard_data.h"

namespace vantage::analysis {

struct DashboardCacheOptions {
  std::size_t max_entries = 256;
  std::size_t max_bytes = 64u << 20;
  std::chrono::seconds max_age{60};
  unsigned max_computing = 2;
  std::chrono::milliseconds wait_limit{20000};
};

class DashboardCache {
 public:
  using Compute = std::function<DashboardResponse(const DashboardRequest&)>;
  using Generation = std::function<std::uint64_t()>;

  DashboardCache(Compute compute, Generation generation, DashboardCacheOptions options = {});

  DashboardResponse get(const DashboardRequest& request);

  struct Stats {
    std::uint64_t hits = 0, misses = 0, refused = 0;
    std::size_t entries = 0, bytes = 0;
  };
  Stats stats() const;

 private:
  struct Entry {
    std::string key;
    std::shared_ptr<const DashboardResponse> response;  // null while computing
    std::uint64_t generation = 0;
    std::chrono::steady_clock::time_point made;
  };
  bool fresh(const Entry& e, std::uint64_t generation) const;
  void evict();  // mutex held

  Compute compute_;
  Generation generation_;
  DashboardCacheOptions options_;

  mutable std::mutex mu_;
  std::condition_variable changed_;
  std::list<Entry> lru_;  // most recently used first
  std::map<std::string, std::list<Entry>::iterator> by_key_;
  std::set<std::string> computing_;  // keys being computed (one computation each)
  std::size_t bytes_ = 0;
  Stats stats_;
};

// The cache key of a request: its path and its filters, in order.
std::string dashboard_cache_key(const DashboardRequest& request);

}  // namespace vantage::analysis
