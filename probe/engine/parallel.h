// The engine's concurrency primitives, both bounded, neither with a queue
// that can outlive it:
//  - parallel_for: runs fn(0..n-1) on at most `parallelism` threads and waits
//    for all of them;
//  - WorkPool: runs work as it is submitted on at most `parallelism` threads,
//    each started only when work arrives and no thread is free; wait() (or
//    the destructor) returns once everything submitted has run.
#pragma once

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <deque>
#include <cstddef>
#include <functional>
#include <mutex>
#include <system_error>
#include <thread>
#include <vector>

namespace vantage::engine {

inline void parallel_for(std::size_t n, int parallelism, const std::function<void(std::size_t)>& fn) {
  if (n == 0) return;
  std::atomic<std::size_t> next{0};
  // fn must not throw; if it does anyway, the item is dropped rather than
  // the process terminated.
  auto worker = [&] {
    for (std::size_t i; (i = next.fetch_add(1)) < n;) {
      try {
        fn(i);
      } catch (...) {
      }
    }
  };
  std::size_t workers = std::min<std::size_t>(n, std::max(1, parallelism));
  std::vector<std::thread> threads;
  threads.reserve(workers - 1);
  for (std::size_t w = 1; w < workers; ++w) {
    try {
      threads.emplace_back(worker);
    } catch (const std::system_error&) {
      break;  // thread limit reached: the threads we have (and this one) do all the work
    }
  }
  worker();
  for (auto& t : threads) t.join();
}

class WorkPool {
 public:
  explicit WorkPool(int parallelism) : limit_(static_cast<std::size_t>(std::max(1, parallelism))) {}
  ~WorkPool() { wait(); }
  WorkPool(const WorkPool&) = delete;
  WorkPool& operator=(const WorkPool&) = delete;

  // fn must not throw; if it does anyway, it is dropped rather than the
  // process terminated.
  void submit(std::function<void()> fn) {
    std::unique_lock lock(mu_);
    queue_.push_back(std::move(fn));
    if (queue_.size() > idle_ && threads_.size() < limit_) {
      try {
        threads_.emplace_back([this] { work(); });
      } catch (const std::system_error&) {
        // Thread limit reached: the threads we have (or wait()) do the work.
      }
    }
    lock.unlock();
    more_.notify_one();
  }

  void wait() {
    std::unique_lock lock(mu_);
    closing_ = true;
    lock.unlock();
    more_.notify_all();
    work();  // with no thread at all, this one does everything
    for (auto& t : threads_) t.join();
    threads_.clear();
    closing_ = false;
  }

 private:
  void work() {
    for (;;) {
      std::unique_lock lock(mu_);
      ++idle_;
      more_.wait(lock, [this] { return !queue_.empty() || closing_; });
      --idle_;
      if (queue_.empty()) return;
      auto fn = std::move(queue_.front());
      queue_.pop_front();
      lock.unlock();
      try {
        fn();
      } catch (...) {
      }
    }
  }

  const std::size_t limit_;
  std::mutex mu_;
  std::condition_variable more_;
  std::deque<std::function<void()>> queue_;
  std::size_t idle_ = 0;
  bool closing_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace vantage::engine
