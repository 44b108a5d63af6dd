// The live dashboard data's cache. See dashboard_cache.h.
#include "analysis/aggregate/dashboard_cache.h"

#include <nlohmann/json.hpp>

namespace vantage::analysis {

namespace {

// The documents that scan the store; the rest go straight through.
bool scans_store(const DashboardRequest& r) {
  return (r.method == "GET" || r.method == "HEAD") &&
         (r.path == "/dashboard/data/aggregates.json" || r.path == "/dashboard/data/measurements/index.json");
}

DashboardResponse busy() {
  DashboardResponse r;
  r.status = 503;
  r.body = R"({"error":"the dashboard is busy computing; retry in a few seconds"})";
  r.headers.emplace_back("Retry-After", "5");
  return r;
}

}  // namespace

std::string dashboard_cache_key(const DashboardRequest& request) {
  // Only the parameters the data depends on: other (cache-busting)
  // parameters map to the same entry.
  std::string key = request.path;
  for (const char* name : {"since", "until", "probe_cc", "probe_asn", "service"}) {
    auto it = request.query.find(name);
    key += '\n';
    if (it != request.query.end()) key += it->second;
  }
  return key;
}

DashboardCache::DashboardCache(Compute compute, Generation generation, DashboardCacheOptions options)
    : compute_(std::move(compute)), generation_(std::move(generation)), options_(options) {
  if (options_.max_computing == 0) options_.max_computing = 1;
}

bool DashboardCache::fresh(const Entry& e, std::uint64_t generation) const {
  return e.response && e.generation == generation &&
         std::chrono::steady_clock::now() - e.made < options_.max_age;
}

void DashboardCache::evict() {
  while (!lru_.empty() && (lru_.size() > options_.max_entries || bytes_ > options_.max_bytes)) {
    const Entry& last = lru_.back();
    bytes_ -= last.response->body.size();
    by_key_.erase(last.key);
    lru_.pop_back();
  }
}

DashboardResponse DashboardCache::get(const DashboardRequest& request) {
  if (!scans_store(request)) return compute_(request);
  const std::string key = dashboard_cache_key(request);
  std::unique_lock lock(mu_);
  const auto deadline = std::chrono::steady_clock::now() + options_.wait_limit;
  for (;;) {
    const std::uint64_t generation = generation_();
    if (auto it = by_key_.find(key); it != by_key_.end() && fresh(*it->second, generation)) {
      lru_.splice(lru_.begin(), lru_, it->second);
      ++stats_.hits;
      return *it->second->response;
    }
    if (!computing_.count(key) && computing_.size() < options_.max_computing) break;
    if (changed_.wait_until(lock, deadline) == std::cv_status::timeout) {
      ++stats_.refused;
      return busy();
    }
  }
  computing_.insert(key);
  ++stats_.misses;
  // Taken before the scan: a measurement stored meanwhile makes the answer
  // stale at once.
  const std::uint64_t generation = generation_();
  lock.unlock();
  DashboardResponse response;
  try {
    response = compute_(request);
  } catch (const std::exception& e) {
    response.status = 500;
    response.body = nlohmann::json{{"error", std::string("internal error: ") + e.what()}}.dump();
  }
  lock.lock();
  computing_.erase(key);
  if (response.status == 200 && response.body.size() <= options_.max_bytes) {
    if (auto it = by_key_.find(key); it != by_key_.end()) {
      bytes_ -= it->second->response ? it->second->response->body.size() : 0;
      lru_.erase(it->second);
      by_key_.erase(it);
    }
    lru_.push_front({key, std::make_shared<const DashboardResponse>(response), generation,
                     std::chrono::steady_clock::now()});
    by_key_[key] = lru_.begin();
    bytes_ += response.body.size();
    evict();
  }
  changed_.notify_all();
  return response;
}

DashboardCache::Stats DashboardCache::stats() const {
  std::lock_guard lock(mu_);
  Stats s = stats_;
  s.entries = lru_.size();
  s.bytes = bytes_;
  return s;
}

}  // namespace vantage::analysis
