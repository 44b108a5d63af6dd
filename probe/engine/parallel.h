// WorkPool: the engine's concurrency primitive, bounded, with no queue that
// can outlive it. It runs work as it is submitted on at most `parallelism`
// threads, each started only when work arrives and no thread is free; wait()
// (or the destructor) returns once everything submitted has run.
#pragma once

#include <algorithm>
#include <condition_variable>
#include <deque>
#include <cstddef>
#include <functional>
#include <mutex>
#include <system_error>
#include <thread>
#include <vector>

namespace vantage::engine {

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
    if (threads_.empty()) work();  // no thread could be started: this one does everything
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
