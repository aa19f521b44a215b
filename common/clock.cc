#include "common/clock.h"

namespace ingest {
namespace {

class SteadyClock final : public Clock {
 public:
  TimePoint Now() const override { return std::chrono::steady_clock::now(); }
};

}  // namespace

const Clock& Clock::Steady() {
  static const SteadyClock kClock;
  return kClock;
}

}  // namespace ingest
