#pragma once

#include <memory>
#include <optional>

#include "common/config.h"
#include "common/ids.h"
#include "coordinator/coordinator.h"
#include "proto/manifest.pb.h"

namespace ingest {

class Fleet;
class FleetView;
class CoordinatorMetrics;
class RunControl;
struct RunContext;

// What a run borrows from the process that starts it; each may be left out.
struct RunServices {
  // The serve daemon's fleet, bound and kept up between runs; without it
  // the run brings up its own.
  Fleet* shared_fleet = nullptr;
  // How the admin API sees and stops the run; without it, a private one.
  std::shared_ptr<RunControl> control;
  // Where a fleet the run brings up publishes its workers.
  FleetView* fleet_view = nullptr;
  // Where the run's metrics are counted.
  CoordinatorMetrics* metrics = nullptr;
};

// One run of the coordinator against one job (SPEC §1): its stages in
// order, each handed the run's context. Single-threaded.
class RunEngine {
 public:
  RunEngine(RunOptions options, Config config, RunServices services = {});

  // Returns the process exit code; the summary JSON is the last stdout line.
  // The control has ended when it returns.
  int Run();

 private:
  int RunStages();
  // A run for a schedule slot, holding the lock: true when the slot
  // already has its outcome (then `*exit_code` is set); a slot whose run
  // failed or died turns this run into the resume of its job.
  bool SlotHasItsOutcome(RunContext& ctx, int* exit_code);

  RunOptions options_;
  Config config_;
  RunServices services_;
  std::string stopped_by_;  // why RunStages ended before the run had a job
  // The summary to print when RunStages ended without a job of its own, in
  // place of one made from stopped_by_ (the run of its schedule slot).
  std::optional<RunSummary> stopped_summary_;
};

// A RunControl for a run that is about to start, QUEUED.
std::shared_ptr<RunControl> NewRunControl(const RunOptions& options, const std::string& env, const RunId& run_id,
                                          bool signals_cancel);

}  // namespace ingest
