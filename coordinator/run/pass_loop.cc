#include "coordinator/run/pass_loop.h"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "common/manifest.h"
#include "common/pass.h"
#include "common/run_log.h"
#include "coordinator/metrics/metrics.h"
#include "coordinator/pass/gate.h"
#include "coordinator/pass/pass_executor.h"
#include "coordinator/run/progress_line.h"
#include "coordinator/run/source_scan.h"

namespace ingest {

Status PassLoop::Run(Fleet* shared_fleet) {
  // Pages of http sources are fetched by the fleet: discovery settles once
  // it is up.
  if (ctx_.discovery.pending_pages.empty()) {
    INGEST_RETURN_IF_ERROR(Settle());
    if (ctx_.passes.empty()) return Status::Ok();
  }
  // The fleet comes up at the first pass (or page fetch) with tasks: a
  // run whose passes are all carried forward neither listens nor waits for
  // workers.
  shared_fleet_ = shared_fleet;
  Status status = RunPasses();
  ReportFleetCounters();
  own_fleet_.reset();  // the local workers drain before the outcome is recorded
  fleet_ = nullptr;
  ctx_.results.clear();  // their journals close
  INGEST_RETURN_IF_ERROR(status);
  std::error_code ec;
  // What lives only as long as the run (local workers' keys).
  std::filesystem::remove_all(ctx_.job_dir / ".work", ec);
  return Status::Ok();
}

Status PassLoop::Settle() {
  if (ctx_.rediscover) INGEST_RETURN_IF_ERROR(SourceScan(ctx_).Commit());
  INGEST_ASSIGN_OR_RETURN(carry_, CarryForward::Find(ctx_));
  // Not saved here: a run whose passes are all carried (most nights) saves
  // the manifest once, at its end. Should it die before then, the job has
  // the manifest of its last save or none, and --resume starts it again.
  settled_unsaved_ = true;
  return Status::Ok();
}

Status PassLoop::StartFleet() {
  if (shared_fleet_ != nullptr) {
    fleet_ = shared_fleet_;
  } else {
    const RunOptions& options = ctx_.options;
    INGEST_ASSIGN_OR_RETURN(own_fleet_, Fleet::Start(ctx_.config.fleet, ctx_.config.retry,
                                                     {.bind = options.bind,
                                                      .local_workers = options.local_workers,
                                                      .local_worker_slots = options.local_worker_slots,
                                                      .local_workers_on_demand = true,
                                                      .local_keys_dir = ctx_.job_dir / ".work",
                                                      .view = ctx_.fleet_view}));
    fleet_ = own_fleet_.get();
  }
  counters_before_ = fleet_->counters();
  return Status::Ok();
}

Result<Fleet*> PassLoop::ReadyFleet() {
  if (fleet_ready_) return fleet_;
  // The wait for workers may be long: the job shows its documents meanwhile.
  if (settled_unsaved_) {
    INGEST_RETURN_IF_ERROR(ctx_.SaveManifest());
    settled_unsaved_ = false;
  }
  if (fleet_ == nullptr) INGEST_RETURN_IF_ERROR(StartFleet());
  const uint32_t wanted = std::max<uint32_t>(ctx_.config.fleet.min_workers, ctx_.options.local_workers > 0 ? 1 : 0);
  RunControl& control = *ctx_.control;
  INGEST_RETURN_IF_ERROR(fleet_->WaitForWorkers(wanted, std::chrono::seconds(ctx_.config.fleet.wait_for_workers_s),
                                                [&control] { return control.cancel_requested(); }));
  fleet_ready_ = true;
  return fleet_;
}

Status PassLoop::RunPasses() {
  if (!ctx_.discovery.pending_pages.empty()) {
    INGEST_ASSIGN_OR_RETURN(Fleet * fleet, ReadyFleet());
    INGEST_RETURN_IF_ERROR(SourceScan(ctx_).FetchPages(*fleet));
    INGEST_RETURN_IF_ERROR(Settle());
  }
  Status cancelled;
  for (Pass pass : ctx_.passes) {
    if (ctx_.control->cancel_requested()) {
      cancelled = Cancelled("cancelled before pass " + PassLetter(pass));
      break;
    }
    Status status = RunPass(pass);
    if (status.code() == StatusCode::kCancelled) cancelled = status;
    if (!status.ok()) break;  // the gate of every later pass would stay closed
  }
  return fleet_error_.ok() ? cancelled : fleet_error_;
}

void PassLoop::ReportFleetCounters() {
  if (fleet_ == nullptr) return;
  const FleetCounters after = fleet_->counters();
  uint64_t dropped = 0;
  std::string reasons;
  for (size_t r = 0; r < kDropReasons; ++r) {
    const uint64_t n = after.dropped_frames[r] - counters_before_.dropped_frames[r];
    if (n == 0) continue;
    dropped += n;
    const auto reason = static_cast<DropReason>(r);
    if (ctx_.metrics != nullptr) ctx_.metrics->FramesDropped(reason, n);
    reasons += (reasons.empty() ? "" : ", ") + std::to_string(n) + " " + DropReasonName(reason);
  }
  if (dropped > 0) {
    LogEvent(spdlog::level::warn, {.status = "dropped_frames", .count = dropped},
             "fleet: dropped " + std::to_string(dropped) + " frames (" + reasons + ")");
  }
  if (const uint64_t refused = after.refused_handshakes - counters_before_.refused_handshakes; refused > 0) {
    LogEvent(spdlog::level::warn, {.status = "refused_workers", .count = refused},
             "fleet: refused " + std::to_string(refused) + " CURVE handshakes of workers whose key is not authorized");
  }
}

Status PassLoop::RunPass(Pass pass) {
  const PassInfo& info = Describe(pass);
  const std::string& letter = info.letter;
  ScopedLogPass log_pass(letter);
  PassRecord& record = PassEntry(ctx_.manifest, pass);
  const auto start = std::chrono::steady_clock::now();
  record.set_run_id(ctx_.run_id.value);
  record.set_started(FormatTimestamp(std::chrono::system_clock::now()));
  auto fail = [&](const Status& status) {
    record.set_status(kPassFailed);
    record.set_ended(FormatTimestamp(std::chrono::system_clock::now()));
    record.add_errors(status.message());
    record.mutable_metrics()->set_duration_s(SecondsSince(start));
    ctx_.errors.push_back("pass " + letter + ": " + status.message());
    LogEvent(spdlog::level::err, {.status = kPassFailed, .error = status.message(), .duration_s = SecondsSince(start)},
             "pass " + letter + " failed: " + status.message());
    ctx_.pass_failed = true;
    (void)ctx_.SaveManifest();
    ctx_.PassEnded(pass, record, status.message());
    return status;
  };

  uint32_t stale_deleted = 0;
  if (info.merge == MergeKind::kCleanup) {
    Result<uint32_t> planned = retention_.Plan();
    if (!planned.ok()) return fail(planned.status().WithContext("retention"));
    stale_deleted = *planned;
  }
  record.set_input_digest(input_digest_.Digest(ctx_, pass));
  Result<bool> carried = carry_->Carry(ctx_, pass, record, stale_deleted);
  if (!carried.ok()) {
    spdlog::warn("pass {} could not be copied from job {}: {}; it runs", letter, ctx_.manifest.carried_from(),
                 carried.status().message());
    record.clear_artifacts();
  } else if (*carried) {
    ctx_.results.erase(pass);
    ctx_.verified.erase(pass);
    record.set_status(kPassSuccess);
    record.set_ended(FormatTimestamp(std::chrono::system_clock::now()));
    record.mutable_metrics()->set_duration_s(SecondsSince(start));
    ctx_.tasks.set_total(ctx_.tasks.total() + record.metrics().tasks_total());
    ctx_.tasks.set_reused(ctx_.tasks.reused() + record.metrics().tasks_reused());
    ctx_.control->PassStarted(pass, record.metrics().tasks_total(), record.metrics().tasks_reused());
    ctx_.PassEnded(pass, record, "");
    LogEvent(spdlog::level::info,
             {.status = kPassSuccess, .count = record.artifacts(0).records(), .duration_s = SecondsSince(start)},
             "pass " + letter + " SUCCESS: inputs unchanged, " + record.artifacts(0).path() + " copied from job " +
                 record.carried_from() + " (" + std::to_string(record.artifacts(0).records()) + " records)");
    // Saved with the next pass that runs, or the outcome: a crash before
    // then only copies it again.
    return Status::Ok();
  }
  // Only now is there work for the fleet: a run whose passes are all copied
  // never waits for workers.
  Result<Fleet*> ready = ReadyFleet();
  if (!ready.ok()) {
    fleet_error_ = ready.status();  // fails the run, not the pass
    return fleet_error_;
  }
  Fleet& fleet = **ready;
  Result<std::map<Pass, ArtifactScan>> gate = EvaluateGate(ctx_.manifest, pass, ctx_.job_dir, &ctx_.verified);
  if (!gate.ok()) return fail(gate.status());
  record.set_status(kPassRunning);
  INGEST_RETURN_IF_ERROR(ctx_.SaveManifest());
  settled_unsaved_ = false;

  // This pass rewrites its journal and artifact; the upstream ones this run
  // did not merge are found in their journals.
  ctx_.results.erase(pass);
  ctx_.verified.erase(pass);
  for (Pass upstream : info.upstream) {
    if (ctx_.results.contains(upstream)) continue;
    Result<PassResults> opened = PassResults::Open(JournalPath(ctx_.job_dir, upstream), upstream);
    if (opened.ok()) {
      ctx_.results.emplace(upstream, std::move(*opened));
    } else {
      spdlog::info("pass {}: reading pass {}'s records from its artifact ({})", letter, PassLetter(upstream),
                   opened.status().message());
    }
  }
  PassExecutor executor(pass, ctx_.config, ctx_.manifest, ctx_.job_dir, std::move(*gate), ctx_.results);
  executor.set_reuse({.own_journal = !ctx_.explicit_rerun(),
                      .previous_journal = carry_->PreviousJournal(pass),
                      .opening = TakePreviousJournal(pass)});
  executor.set_stale_deleted(stale_deleted);
  if (Status planned = executor.Plan(); !planned.ok()) return fail(planned);
  Result<PassExecutor::Reused> reused = executor.ReuseCommitted();
  if (!reused.ok()) return fail(reused.status());
  std::string reuse_note;
  if (reused->resumed > 0) {
    reuse_note += ", " + std::to_string(reused->resumed) + " reused from the journal of an interrupted run";
  }
  if (reused->carried > 0) {
    reuse_note += ", " + std::to_string(reused->carried) + " carried forward from " + ctx_.manifest.carried_from();
  }
  LogEvent(spdlog::level::info, {.status = kPassRunning, .count = executor.task_count()},
           "pass " + letter + " started: " + std::to_string(executor.task_count()) + " tasks" + reuse_note);
  const auto total = static_cast<uint32_t>(executor.task_count());
  const auto reused_tasks = static_cast<uint32_t>(reused->resumed + reused->carried);
  RunControl& control = *ctx_.control;
  control.PassStarted(pass, total, reused_tasks);
  PassProgressLine progress(pass, total, reused_tasks, StderrIsTerminal());
  uint32_t tasks_done = reused_tasks;
  ExecuteHooks hooks{
      .cancelled = [&control] { return control.cancel_requested(); },
      .cancel_grace = std::chrono::seconds(ctx_.config.run.cancel_grace_s),
      .progress =
          [&](size_t done, size_t) {
            tasks_done = reused_tasks + static_cast<uint32_t>(done);
            const auto workers = static_cast<uint32_t>(fleet.ready_workers());
            control.Progress(pass, tasks_done, total, executor.documents_failed(), workers);
            progress.Update(tasks_done, executor.documents_failed(), workers);
          },
  };
  PassMetrics* metrics = record.mutable_metrics();
  OpenNextPreviousJournal(pass);
  Status executed = fleet.Execute(executor.DispatchOrder(), executor, metrics, hooks);
  progress.Finish(tasks_done, executor.documents_failed(), static_cast<uint32_t>(fleet.ready_workers()));
  metrics->set_tasks_total(total);
  metrics->set_tasks_reused(reused_tasks);
  ctx_.CountTasks(*metrics);
  if (executed.code() == StatusCode::kCancelled) {
    // What finished is kept for --resume; the pass is neither done nor failed.
    if (Status synced = executor.SyncJournal(); !synced.ok()) spdlog::warn("{}", synced.message());
    record.set_status(kPassCancelled);
    record.set_ended(FormatTimestamp(std::chrono::system_clock::now()));
    record.add_errors(control.cancel_reason() + ": " + executed.message());
    metrics->set_duration_s(SecondsSince(start));
    metrics->set_documents_failed(executor.documents_failed());
    LogEvent(spdlog::level::warn, {.status = kPassCancelled, .duration_s = SecondsSince(start)},
             "pass " + letter + " cancelled (" + control.cancel_reason() + "): " + executed.message());
    (void)ctx_.SaveManifest();
    ctx_.PassEnded(pass, record, executed.message());
    return executed;
  }
  if (!executed.ok()) return fail(executed);
  const double dispatch_s = SecondsSince(start);

  Result<PassOutcome> outcome = executor.Merge();
  if (!outcome.ok()) return fail(outcome.status().WithContext("merge"));
  *record.add_artifacts() = outcome->artifact;
  ctx_.verified[pass] = std::move(outcome->scan);
  ctx_.results.emplace(pass, std::move(*outcome->results));
  metrics->set_documents_failed(outcome->documents_failed);
  metrics->set_duration_s(SecondsSince(start));
  for (const std::string& e : outcome->errors) {
    record.add_errors(e);
    ctx_.errors.push_back("pass " + letter + ": " + e);
  }
  CopyTotals(pass, outcome->totals, ctx_.manifest.mutable_metrics());
  record.set_status(kPassSuccess);
  record.set_ended(FormatTimestamp(std::chrono::system_clock::now()));
  LogEvent(spdlog::level::info,
           {.status = kPassSuccess, .count = outcome->artifact.records(), .duration_s = metrics->duration_s()},
           "pass " + letter + " SUCCESS: " + outcome->artifact.path() + ", " +
               std::to_string(outcome->artifact.records()) + " records, " + std::to_string(outcome->documents_failed) +
               " documents failed; tasks " + fmt::format("{:.2f}", dispatch_s) + " s, merge " +
               fmt::format("{:.2f}", SecondsSince(start) - dispatch_s) + " s");
  ctx_.PassEnded(pass, record, "");
  ForgetWhatNoLaterPassReads(pass);
  // Recorded by the next save: the one that marks the next pass RUNNING,
  // which comes before any of that pass's tasks is planned, or the
  // outcome's. Each save rewrites the whole manifest, an entry per
  // document; a crash before it finds this pass RUNNING and merges it
  // again from its journal, to the same bytes.
  return Status::Ok();
}

void PassLoop::OpenNextPreviousJournal(Pass running) {
  auto next = std::find(ctx_.passes.begin(), ctx_.passes.end(), running);
  if (next == ctx_.passes.end() || ++next == ctx_.passes.end()) return;
  const std::filesystem::path path = carry_->PreviousJournal(*next);
  std::error_code ec;
  if (path.empty() || !std::filesystem::exists(path, ec)) return;
  next_previous_journal_.emplace(
      Opening{*next, std::async(std::launch::async, [path] { return TaskJournal::OpenReadOnly(path); })});
}

std::future<Result<TaskJournal>> PassLoop::TakePreviousJournal(Pass pass) {
  std::future<Result<TaskJournal>> journal;
  if (next_previous_journal_ && next_previous_journal_->pass == pass) {
    journal = std::move(next_previous_journal_->journal);
  }
  next_previous_journal_.reset();  // one for another pass is waited for and dropped
  return journal;
}

void PassLoop::ForgetWhatNoLaterPassReads(Pass done) {
  const auto read_later = [&](Pass upstream) {
    return std::any_of(ctx_.passes.begin(), ctx_.passes.end(), [&](Pass later) {
      const std::vector<Pass>& reads = UpstreamPasses(later);
      return later > done && std::find(reads.begin(), reads.end(), upstream) != reads.end();
    });
  };
  std::erase_if(ctx_.results, [&](const auto& entry) { return !read_later(entry.first); });
  std::erase_if(ctx_.verified, [&](const auto& entry) { return !read_later(entry.first); });
}

}  // namespace ingest
