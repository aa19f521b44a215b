#pragma once

#include <optional>

#include "common/status.h"
#include "coordinator/fleet/fleet.h"
#include "coordinator/run/carry_forward.h"
#include "coordinator/run/retention_stage.h"
#include "coordinator/run/run_context.h"

namespace ingest {

// The pass loop: settles discovery (committing it and finding the job to
// carry forward from), brings up the fleet when there is work for it,
// fetches the pages of due http sources, then takes each pass in order: a
// pass whose inputs are unchanged is copied from the previous job, any other
// passes its gate, is planned, dispatched and merged. The first pass that
// fails ends the loop (every later gate would stay closed).
//
// Reads: passes, options, config, store, manifest, discovery.
// Writes: manifest (carried_from, pass records, documents, totals), tasks,
// errors, pass_failed, verified, mirrors; the job's artifacts, journals and
// its .work directory (removed at the end).
class PassLoop {
 public:
  PassLoop(RunContext& ctx, RetentionStage& retention) : ctx_(ctx), retention_(retention) {}

  // With `shared_fleet` (the serve daemon's) the run uses it; otherwise it
  // brings up its own, and only when it has work. A non-ok status fails the
  // run: discovery could not be made durable, or the fleet could not come
  // up or had no workers. A pass that fails is recorded (pass_failed) and
  // the loop still returns ok.
  Status Run(Fleet* shared_fleet);

 private:
  // Makes discovery durable and finds the previous job.
  Status Settle();
  Status RunOnFleet(Fleet& fleet);
  // Runs one pass behind its gate; a non-ok status has been recorded as the
  // pass's failure.
  Status RunPass(Fleet& fleet, Pass pass);

  RunContext& ctx_;
  RetentionStage& retention_;
  std::optional<CarryForward> carry_;
};

}  // namespace ingest
