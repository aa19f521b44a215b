#pragma once

#include <future>
#include <memory>
#include <optional>

#include "common/status.h"
#include "coordinator/fleet/fleet.h"
#include "coordinator/pass/task_journal.h"
#include "coordinator/run/carry_forward.h"
#include "coordinator/run/retention_stage.h"
#include "coordinator/run/run_context.h"

namespace ingest {

// The pass loop: settles discovery (committing it and finding the job to
// carry forward from), fetches the pages of due http sources, then takes
// each pass in order: a pass whose inputs are unchanged is copied from the
// previous job, any other passes its gate, is planned, dispatched and
// merged. The fleet comes up, and its workers are waited for, at the first
// pass or page that needs them, so a run with nothing to execute neither
// listens nor waits for workers. The first pass that fails ends the loop
// (every later gate would stay closed).
//
// Reads: passes, options, config, store, manifest, discovery.
// Writes: manifest (carried_from, pass records, documents, totals), tasks,
// errors, pass_failed, verified, results; the job's artifacts, journals and
// its .work directory (removed at the end).
class PassLoop {
 public:
  PassLoop(RunContext& ctx, RetentionStage& retention) : ctx_(ctx), retention_(retention) {}

  // With `shared_fleet` (the serve daemon's) the run uses it; otherwise it
  // brings up its own, and only when it has passes to take. A non-ok status fails the
  // run: discovery could not be made durable, or the fleet could not come
  // up or had no workers. A pass that fails is recorded (pass_failed) and
  // the loop still returns ok.
  Status Run(Fleet* shared_fleet);

 private:
  // Makes discovery durable in the store and finds the previous job. The
  // manifest's next save records the settled documents: before the fleet
  // is first waited for, or the outcome's when every pass is carried.
  Status Settle();
  // Takes the shared fleet (shared_fleet_), or brings up this run's own
  // (listening; local workers started when first waited for).
  Status StartFleet();
  // The fleet once its workers are ready, started and waited for on the
  // first call.
  Result<Fleet*> ReadyFleet();
  Status RunPasses();
  // Runs one pass behind its gate; a non-ok status other than the fleet's
  // has been recorded as the pass's failure.
  Status RunPass(Pass pass);
  // Logs the frames the fleet dropped and the handshakes it refused.
  void ReportFleetCounters();
  // Drops the results and artifact indexes of the passes that no pass of
  // this run after `done` reads: memory holds what is still to be read.
  void ForgetWhatNoLaterPassReads(Pass done);
  // Starts opening the previous job's journal of the pass after `running`
  // on a thread of its own, while `running` runs: in a run with few
  // changes, reading and checking that journal is most of what the next
  // pass's carry-forward costs, and the second core is idle meanwhile. One
  // pass ahead only, so memory holds one such index more at most.
  void OpenNextPreviousJournal(Pass running);
  // What OpenNextPreviousJournal started for `pass`, if anything.
  std::future<Result<TaskJournal>> TakePreviousJournal(Pass pass);

  RunContext& ctx_;
  RetentionStage& retention_;
  std::optional<CarryForward> carry_;
  PassInputDigester input_digest_;
  std::unique_ptr<Fleet> own_fleet_;
  Fleet* shared_fleet_ = nullptr;  // the serve daemon's, given to Run
  Fleet* fleet_ = nullptr;         // from StartFleet
  bool fleet_ready_ = false;
  bool settled_unsaved_ = false;  // Settle ran since the manifest's last save
  FleetCounters counters_before_;
  Status fleet_error_;  // it could not come up or had no workers
  struct Opening {
    Pass pass;
    std::future<Result<TaskJournal>> journal;
  };
  std::optional<Opening> next_previous_journal_;
};

}  // namespace ingest
