#pragma once

#include "common/clock.h"

namespace ingest::testing {

// A clock that moves only when told to: tests of timeouts and backoff
// advance it instead of sleeping.
class FakeClock final : public Clock {
 public:
  TimePoint Now() const override { return now_; }
  void Advance(std::chrono::milliseconds by) { now_ += by; }

 private:
  TimePoint now_ = TimePoint() + std::chrono::hours(1);
};

}  // namespace ingest::testing
