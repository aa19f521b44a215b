#pragma once

#include <memory>

#include "common/config.h"
#include "common/ids.h"
#include "coordinator/coordinator.h"

namespace ingest {

class Fleet;
class FleetView;
class RunControl;

// One run of the coordinator against one job (SPEC §1): its stages in
// order, each handed the run's context. Single-threaded.
class RunEngine {
 public:
  // With `shared_fleet` (the serve daemon's, bound and kept up between
  // runs) the run uses it instead of bringing up its own. `control` is how
  // the admin API sees and stops the run (null: a private one);
  // `fleet_view` where a fleet the run brings up publishes its workers.
  RunEngine(RunOptions options, Config config, Fleet* shared_fleet = nullptr,
            std::shared_ptr<RunControl> control = nullptr, FleetView* fleet_view = nullptr);

  // Returns the process exit code; the summary JSON is the last stdout line.
  // The control has ended when it returns.
  int Run();

 private:
  int RunStages();

  RunOptions options_;
  Config config_;
  Fleet* shared_fleet_ = nullptr;
  std::shared_ptr<RunControl> control_;
  FleetView* fleet_view_ = nullptr;
};

// A RunControl for a run that is about to start, QUEUED.
std::shared_ptr<RunControl> NewRunControl(const RunOptions& options, const std::string& env, const RunId& run_id,
                                          bool signals_cancel);

}  // namespace ingest
