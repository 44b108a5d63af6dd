// Per-client request rate limit: a token bucket per client key (its address),
// refilled at `rate` per second up to `burst`. Thread-safe. Forgets idle
// clients so its memory stays bounded by the number of recently active ones.
// Never blocks: it only answers allow / refuse.
#pragma once

#include <chrono>
#include <mutex>
#include <string>
#include <unordered_map>

namespace vantage::server {

class RateLimiter {
 public:
  using Clock = std::chrono::steady_clock;
  // rate <= 0 disables the limit.
  RateLimiter(double rate, double burst) : rate_(rate), burst_(burst < 1 ? 1 : burst) {}

  bool allow(const std::string& client, Clock::time_point now = Clock::now()) {
    if (rate_ <= 0) return true;
    std::lock_guard<std::mutex> lock(mu_);
    if (buckets_.size() > 100000) forget_idle(now);
    auto [it, fresh] = buckets_.try_emplace(client, Bucket{burst_, now});
    Bucket& b = it->second;
    if (!fresh) {
      const double elapsed = std::chrono::duration<double>(now - b.last).count();
      b.tokens = std::min(burst_, b.tokens + elapsed * rate_);
      b.last = now;
    }
    if (b.tokens < 1) return false;
    b.tokens -= 1;
    return true;
  }

  // Seconds until one more request would be allowed, rounded up (Retry-After).
  int retry_after() const { return rate_ <= 0 ? 0 : static_cast<int>(1.0 / rate_) + 1; }

 private:
  struct Bucket {
    double tokens;
    Clock::time_point last;
  };
  void forget_idle(Clock::time_point now) {
    // A bucket idle long enough to be full again carries no information.
    const double full_after = burst_ / rate_;
    for (auto it = buckets_.begin(); it != buckets_.end();) {
      if (std::chrono::duration<double>(now - it->second.last).count() > full_after) it = buckets_.erase(it);
      else ++it;
    }
  }

  double rate_;
  double burst_;
  std::mutex mu_;
  std::unordered_map<std::string, Bucket> buckets_;
};

}  // namespace vantage::server
