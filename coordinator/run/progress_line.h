#pragma once

#include <chrono>
#include <cstdint>
#include <string>

#include "common/pass.h"

namespace ingest {

// Where one pass stands, for a progress line.
struct PassProgressFigures {
  Pass pass = Pass::PASS_UNSPECIFIED;
  uint32_t done = 0;    // tasks with a final result, reused ones included
  uint32_t total = 0;   // tasks of the pass
  uint32_t reused = 0;  // of `done`, taken from a journal without running
  uint32_t failed = 0;  // documents failed so far
  uint32_t workers = 0;
  std::chrono::duration<double> elapsed{0};  // since the pass started
};

// "pass C 1234/5000 tasks (24%), 3 failed, 412 tasks/s, ETA 9s, 4 workers".
// The rate counts the tasks this run executed; the ETA is what is left at
// that rate ("ETA ?" before the first result).
std::string FormatPassProgress(const PassProgressFigures& figures);

// One pass's progress on stderr: on a terminal a live line redrawn in place
// under the log lines; otherwise (piped, a file, a container log) a log
// line every `every` and one at the pass's end.
class PassProgressLine {
 public:
  PassProgressLine(Pass pass, uint32_t total, uint32_t reused, bool live,
                   std::chrono::seconds every = std::chrono::seconds(10));
  void Update(uint32_t done, uint32_t failed, uint32_t workers);
  // The pass's end: the live line goes; piped, the last figures are logged.
  void Finish(uint32_t done, uint32_t failed, uint32_t workers);

 private:
  PassProgressFigures Figures(uint32_t done, uint32_t failed, uint32_t workers) const;

  using Clock = std::chrono::steady_clock;
  Pass pass_;
  uint32_t total_;
  uint32_t reused_;
  bool live_;
  std::chrono::seconds every_;
  Clock::time_point started_;
  Clock::time_point next_log_;
};

}  // namespace ingest
