#include "coordinator/run/progress_line.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <cmath>

#include "common/run_log.h"

namespace ingest {
namespace {

std::string Duration(double seconds) {
  const auto s = static_cast<int64_t>(std::ceil(seconds));
  if (s < 60) return fmt::format("{}s", s);
  if (s < 3600) return fmt::format("{}m{:02d}s", s / 60, s % 60);
  return fmt::format("{}h{:02d}m", s / 3600, (s % 3600) / 60);
}

}  // namespace

std::string FormatPassProgress(const PassProgressFigures& f) {
  const uint32_t executed = f.done > f.reused ? f.done - f.reused : 0;
  const double seconds = f.elapsed.count();
  const double rate = seconds > 0 ? executed / seconds : 0;
  const uint32_t left = f.total > f.done ? f.total - f.done : 0;
  std::string eta;
  if (left == 0) {
    eta = "done in " + Duration(seconds);
  } else if (rate > 0) {
    eta = "ETA " + Duration(left / rate);
  } else {
    eta = "ETA ?";
  }
  const unsigned percent = f.total == 0 ? 100 : static_cast<unsigned>(uint64_t{f.done} * 100 / f.total);
  return fmt::format("pass {} {}/{} tasks ({}%), {} failed, {:.{}f} tasks/s, {}, {} worker{}", PassLetter(f.pass),
                     f.done, f.total, percent, f.failed, rate, rate < 10 ? 1 : 0, eta, f.workers,
                     f.workers == 1 ? "" : "s");
}

PassProgressLine::PassProgressLine(Pass pass, uint32_t total, uint32_t reused, bool live, std::chrono::seconds every)
    : pass_(pass),
      total_(total),
      reused_(reused),
      live_(live),
      every_(every),
      started_(Clock::now()),
      next_log_(started_ + every) {}

PassProgressFigures PassProgressLine::Figures(uint32_t done, uint32_t failed, uint32_t workers) const {
  return {pass_, done, total_, reused_, failed, workers, Clock::now() - started_};
}

void PassProgressLine::Update(uint32_t done, uint32_t failed, uint32_t workers) {
  if (live_) {
    SetStatusLine(FormatPassProgress(Figures(done, failed, workers)));
    return;
  }
  const Clock::time_point now = Clock::now();
  if (now < next_log_) return;
  next_log_ = now + every_;
  spdlog::info("{}", FormatPassProgress(Figures(done, failed, workers)));
}

void PassProgressLine::Finish(uint32_t done, uint32_t failed, uint32_t workers) {
  if (live_) {
    SetStatusLine("");
  } else {
    spdlog::info("{}", FormatPassProgress(Figures(done, failed, workers)));
  }
}

}  // namespace ingest
