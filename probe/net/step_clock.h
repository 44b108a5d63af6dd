// StepClock: the measurement's time origin, shared by every primitive so that
// observation times (t0/t) are seconds since the measurement started.
// Uses steady_clock only; wall time belongs to the report envelope.
#pragma once

#include <chrono>
#include <cstdint>

namespace vantage::net {

struct StepClock {
  std::chrono::steady_clock::time_point origin = std::chrono::steady_clock::now();

  double now() const {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - origin).count();
  }
};

// What every primitive needs to stamp its observation.
struct StepContext {
  const StepClock* clock = nullptr;
  int64_t transaction_id = 0;
};

}  // namespace vantage::net
