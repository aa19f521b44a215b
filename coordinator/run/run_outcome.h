#pragma once

#include "common/status.h"
#include "coordinator/run/retention_stage.h"
#include "coordinator/run/run_context.h"
#include "proto/manifest.pb.h"

namespace ingest {

// The run's outcome, its last stage: the status and exit code (SPEC §6),
// the run summary (SPEC §11), the final manifest, the consolidated failure
// report, the state recording and audit event, retention, the notification,
// and the summary JSON as the last line of stdout.
//
// Reads: everything the earlier stages wrote.
// Writes: manifest (status, summary, totals, this run's entry), the failure
// report in report_dir, the state store, stdout; detaches the run log.
class RunOutcome {
 public:
  RunOutcome(RunContext& ctx, RetentionStage& retention) : ctx_(ctx), retention_(retention) {}

  // Ends a run that has a job. `fatal` is what stopped it early, if
  // anything. Returns the exit code.
  int Finish(const Status& fatal);
  // Ends a run whose job could not be opened: an audit event and the
  // notification, no summary line. Exit 2 when the flags named a job that
  // does not exist, else 1.
  int FinishWithoutJob(const Status& fatal);

 private:
  RunSummary Summarize(const Status& fatal, std::vector<std::string>* run_errors);
  // "coordinator CPU 2.31 s, 190 us per task, peak RSS 74 MB", for the final
  // log line: the coordinator is the fleet's one serial part, so its CPU per
  // task says how far the fleet can scale out, and its memory must stay flat
  // in the corpus size.
  std::string CpuReport() const;

  RunContext& ctx_;
  RetentionStage& retention_;
};

// The summary of a run that stopped before it had a job (a bad config or
// flag, the env's lock held, a job that cannot be opened): status failed
// (completed for exit 0), `error` as its one error ("" for none).
RunSummary StoppedRunSummary(const std::string& run_id, const std::string& env, int exit_code,
                             const std::string& error);

// The run's outcome in the state store, in two steps around the failure
// report. RecordDocuments: documents (their outcome and failures in a row,
// which decide quarantine), sources and the run's passes; with
// `documents_settled` false (a pass or the run failed) documents and sources
// stay as they were. RecordRunEnd: the run's end and the audit event;
// `report_path` is the failure report's ("" when none was written). Each
// logs every error and returns the first: a run whose outcome the store did
// not take has failed, and a resume of its job records it again.
Status RecordDocuments(RunContext& ctx, bool documents_settled);
Status RecordRunEnd(RunContext& ctx, const RunSummary& summary, const std::string& report_path);

}  // namespace ingest
