#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <filesystem>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "coordinator/run/run_view.h"
#include "proto/admin.pb.h"
#include "proto/manifest.pb.h"

namespace ingest {

// One run as the world outside its thread sees and steers it: the admin
// API's threads read its snapshot, follow its events and ask it to stop;
// the run's thread publishes what happens and looks at the stop request at
// safe points (between passes, on every turn of the fleet's loop).
//
// Shared (std::shared_ptr) by the run's RunContext and the admin API's
// registry, whichever lets go last. Thread-safe.
class RunControl {
 public:
  // A run about to start: `run` has its id, env, trigger, flags and
  // request id; its state is QUEUED. With `signals_cancel`, a caught SIGINT
  // or SIGTERM (common/signals.h) counts as a stop request.
  RunControl(admin::Run run, bool signals_cancel);

  // ---- Published by the run's thread.
  void Started(const std::string& job_id, const std::filesystem::path& job_dir, const std::vector<Pass>& passes,
               WallTime started);
  void PassStarted(Pass pass, uint32_t tasks_total, uint32_t tasks_reused);
  // At most twice a second per pass; the rest are dropped.
  void Progress(Pass pass, uint32_t tasks_done, uint32_t tasks_total, uint32_t documents_failed, uint32_t workers);
  void PassEnded(Pass pass, const PassRecord& record, const std::string& error);
  // The last event. `exit_code` is the process's.
  void Ended(const RunSummary& summary, const std::string& report_path, int exit_code);

  // ---- Anyone.
  // Asks the run to stop; the first reason stands. False when it has ended.
  bool RequestCancel(const std::string& reason);
  bool cancel_requested() const;
  // "CancelRun: <reason>", or "SIGTERM"; "" when not cancelled.
  std::string cancel_reason() const;
  // 128 + N for signal N, kExitCancelled for CancelRun.
  int cancel_exit_code() const;
  bool ended() const;
  admin::Run Snapshot() const;

  // Follows the run's events: `*cursor` starts at what Watch() gave and
  // moves on. Waits up to `timeout` when there is nothing new. A watcher
  // that fell so far behind that its events were dropped gets a fresh
  // snapshot first. After the run_ended event nothing follows.
  struct Watch {
    admin::Run snapshot;
    uint64_t cursor = 0;
  };
  Watch StartWatch() const;
  std::vector<admin::RunEvent> Next(uint64_t* cursor, std::chrono::milliseconds timeout) const;

 private:
  // Appends an event (with its time) and wakes the watchers. mu_ held.
  void Publish(admin::RunEvent event);
  admin::PassStatus* PassOf(Pass pass);  // mu_ held

  static constexpr size_t kKeptEvents = 4096;

  const bool signals_cancel_;
  std::atomic<bool> cancel_{false};
  mutable std::mutex mu_;
  mutable std::condition_variable changed_;
  admin::Run run_;                                                       // Guarded by mu_.
  std::deque<admin::RunEvent> events_;                                   // Guarded by mu_.
  uint64_t first_seq_ = 1;                                               // Guarded by mu_: sequence of events_.front()
  std::string cancel_reason_;                                            // Guarded by mu_.
  std::map<Pass, std::chrono::steady_clock::time_point> last_progress_;  // Guarded by mu_.
};

}  // namespace ingest
