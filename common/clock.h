#pragma once

#include <chrono>

namespace ingest {

// Where code that waits, times out or backs off reads the time, so tests can
// drive it with a fake clock instead of sleeping.
class Clock {
 public:
  using TimePoint = std::chrono::steady_clock::time_point;
  virtual ~Clock() = default;
  virtual TimePoint Now() const = 0;

  // The process's monotonic clock. Thread-safe.
  static const Clock& Steady();
};

}  // namespace ingest
