#pragma once

#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "common/ids.h"
#include "common/status.h"
#include "coordinator/state/state_store.h"

namespace ingest {

// A run lock whose heartbeat is older than this belongs to a dead run.
inline constexpr std::chrono::seconds kRunLockStaleAfter{120};

// The env's run lock (SPEC §10): one run per env at a time. Held from
// Acquire until the object goes, whichever way the run ends, with its
// heartbeat kept fresh meanwhile from a thread and connection of its own, so
// a live run is never mistaken for a dead one. A lock whose process is gone
// (same host) or whose heartbeat is older than 120 s is broken, and the
// broken holder is logged.
class RunLock {
 public:
  // Takes the lock of `env` in `store` for `holder` (a run id, or
  // retention_<pid> for `ingest-coordinator retention`). Aborted naming the
  // holder (run id, pid, host, since) when another live process holds it.
  // `store` must outlive the lock.
  // `scheduled_for` (the holder's schedule slot, or "") is kept with the lock,
  // so a second run for the same slot can tell it is being run.
  static Result<std::unique_ptr<RunLock>> Acquire(StateStore& store, const std::string& env, RunId holder,
                                                  const std::string& scheduled_for = "");
  // Stops the heartbeat, then releases the lock (a failure is logged).
  ~RunLock();
  RunLock(const RunLock&) = delete;
  RunLock& operator=(const RunLock&) = delete;

 private:
  RunLock(StateStore& store, std::string env, RunId holder);

  StateStore& store_;
  std::string env_;
  RunId holder_;
  // The heartbeat thread waits on stopped_ between beats, so the lock is
  // released as soon as the run ends.
  std::mutex mu_;
  std::condition_variable stopped_;
  bool stop_ = false;  // Guarded by mu_.
  std::thread heartbeat_;
};

}  // namespace ingest
