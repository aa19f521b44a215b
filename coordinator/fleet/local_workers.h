#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "common/status.h"

namespace ingest {

// Worker processes this coordinator started for --local-workers. They die
// with the coordinator (PR_SET_PDEATHSIG) and are drained on Stop().
class LocalWorkers {
 public:
  LocalWorkers() = default;
  ~LocalWorkers();
  LocalWorkers(const LocalWorkers&) = delete;
  LocalWorkers& operator=(const LocalWorkers&) = delete;

  // Starts `count` ingest-worker processes from the coordinator's own
  // directory, connected to `endpoint`, each with `slots` slots (0 = cores)
  // and `extra_args`.
  Status Start(int count, const std::string& endpoint, unsigned slots, const std::vector<std::string>& extra_args = {});

  // Asks every worker to drain (SIGTERM) without waiting.
  void Signal();
  // Reaps the workers that exited; true once none is left.
  bool Reap();
  // SIGTERM (drain), then SIGKILL after `grace_ms`; reaps every child.
  void Stop(int grace_ms = 10000);

 private:
  std::vector<pid_t> pids_;
};

}  // namespace ingest
