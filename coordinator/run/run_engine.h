#pragma once

#include "common/config.h"
#include "coordinator/coordinator.h"

namespace ingest {

class Fleet;

// One run of the coordinator against one job (SPEC §1): its stages in
// order, each handed the run's context. Single-threaded.
class RunEngine {
 public:
  // With `shared_fleet` (the serve daemon's, bound and kept up between
  // runs) the run uses it instead of bringing up its own.
  RunEngine(RunOptions options, Config config, Fleet* shared_fleet = nullptr);

  // Returns the process exit code; the summary JSON is the last stdout line.
  int Run();

 private:
  RunOptions options_;
  Config config_;
  Fleet* shared_fleet_ = nullptr;
};

}  // namespace ingest
