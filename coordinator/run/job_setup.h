#pragma once

#include "common/status.h"
#include "coordinator/run/run_context.h"

namespace ingest {

// Job set-up, the first stage of a run: which passes run, the env's run lock
// (before anything else is touched), the job directory with its manifest,
// and the run log.
//
// Reads: options, config, run_id, started.
// Writes: passes, rediscover, store, lock, job_dir, manifest, run_record,
// log; creates the job directory and removes temp files an interrupted run
// left there.
class JobSetup {
 public:
  explicit JobSetup(RunContext& ctx) : ctx_(ctx) {}

  // --passes, --resume-from or all passes into ctx.passes. InvalidArgument
  // for a bad list or both flags (exit 2).
  Status ResolvePasses();
  // Opens the state store and takes the env's run lock. Aborted naming the
  // holder when another run has it (exit 4).
  Status Lock();
  // Finds or creates the job directory and its manifest, records this run
  // in it and resets the passes it reruns (--resume narrows them to those
  // not SUCCESS). NotFound when the flags name a job that does not exist.
  Status OpenJob();
  // Attaches {job}/run.ndjson and records the run's start in the store.
  Status StartLog();

 private:
  // The directory of the job this run works on (not created yet).
  Result<std::filesystem::path> ChooseJobDir() const;

  RunContext& ctx_;
};

}  // namespace ingest
