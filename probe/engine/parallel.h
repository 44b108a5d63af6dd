// parallel_for: runs fn(0..n-1) on at most `parallelism` threads and waits
// for all of them. The engine's only concurrency primitive: bounded, with no
// queue that can outlive the call.
#pragma once

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <functional>
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

}  // namespace vantage::engine
