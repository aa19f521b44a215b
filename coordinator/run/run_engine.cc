#include "coordinator/run/run_engine.h"

#include <spdlog/spdlog.h>
#include <unistd.h>

#include <condition_variable>
#include <iostream>
#include <mutex>
#include <optional>
#include <thread>

#include "common/manifest.h"
#include "common/proto_json.h"
#include "coordinator/metrics/metrics.h"
#include "coordinator/run/dry_run.h"
#include "coordinator/run/job_setup.h"
#include "coordinator/run/pass_loop.h"
#include "coordinator/run/retention_stage.h"
#include "coordinator/run/run_context.h"
#include "coordinator/run/run_control.h"
#include "coordinator/run/run_outcome.h"
#include "coordinator/run/schedule_slot.h"
#include "coordinator/run/source_scan.h"
#include "coordinator/state/run_lock.h"

namespace ingest {
namespace {

// run.deadline_s: cancels the run as CancelRun would once the deadline
// passes, unless the run ended first (the destructor).
class DeadlineWatch {
 public:
  DeadlineWatch(RunControl& control, uint32_t seconds)
      : thread_([this, &control, seconds] {
          std::unique_lock<std::mutex> lock(mu_);
          if (!ended_.wait_for(lock, std::chrono::seconds(seconds), [this] { return done_; })) {
            spdlog::warn("run.deadline_s={} passed: cancelling the run", seconds);
            control.RequestCancel("deadline run.deadline_s=" + std::to_string(seconds) + " passed");
          }
        }) {}
  ~DeadlineWatch() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      done_ = true;
    }
    ended_.notify_all();
    thread_.join();
  }
  DeadlineWatch(const DeadlineWatch&) = delete;
  DeadlineWatch& operator=(const DeadlineWatch&) = delete;

 private:
  std::mutex mu_;
  std::condition_variable ended_;
  bool done_ = false;  // Guarded by mu_.
  std::thread thread_;
};

}  // namespace

std::shared_ptr<RunControl> NewRunControl(const RunOptions& options, const std::string& env, const RunId& run_id,
                                          bool signals_cancel) {
  admin::Run run;
  run.set_run_id(run_id.value);
  run.set_env(env.empty() ? options.env : env);
  run.set_trigger(TriggerOf(TriggerName(options)));
  *run.mutable_flags() = FlagsOf(options);
  run.set_request_id(options.request_id);
  return std::make_shared<RunControl>(std::move(run), signals_cancel);
}

RunEngine::RunEngine(RunOptions options, Config config, RunServices services)
    : options_(std::move(options)), config_(std::move(config)), services_(std::move(services)) {
  if (options_.run_id.empty()) options_.run_id = MakeRunId(std::chrono::system_clock::now(), ::getpid()).value;
  if (!services_.control) services_.control = NewRunControl(options_, config_.env, RunId{options_.run_id}, false);
}

int RunEngine::Run() {
  const int exit_code = RunStages();
  RunControl& control = *services_.control;
  if (!control.ended()) {
    // It stopped before it had a job (usage, lock, dry run): whoever
    // watches it learns how it ended, and a log parser finds a summary
    // line naming why (a dry run's last line is its plan).
    RunSummary summary =
        stopped_summary_ ? *stopped_summary_ : StoppedRunSummary(options_.run_id, config_.env, exit_code, stopped_by_);
    control.Ended(summary, "", exit_code);
    if (!options_.dry_run) std::cout << ToJson(summary) << std::endl;
  }
  return exit_code;
}

int RunEngine::RunStages() {
  RunContext ctx(options_, config_, services_.control, services_.fleet_view, services_.metrics);
  JobSetup setup(ctx);
  if (Status passes = setup.ResolvePasses(); !passes.ok()) {
    spdlog::error("{}", passes.message());
    stopped_by_ = passes.message();
    return kExitUsage;
  }
  if (ctx.options.dry_run) return DryRun(ctx);

  // The env's run lock before anything else is touched.
  if (Status locked = setup.Lock(); !locked.ok()) {
    const std::string& slot = ctx.options.scheduled_for;
    if (locked.code() == StatusCode::kAborted && !slot.empty()) {
      // A second Job for the same slot, started beside the first.
      Result<std::optional<LockHolder>> holder = ctx.store->Lock(ctx.config.env, kRunLockStaleAfter);
      if (holder.ok() && *holder && (*holder)->scheduled_for == slot) {
        spdlog::info("schedule slot {} is being run by {}; nothing to do", slot, (*holder)->Describe());
        stopped_summary_ = StoppedRunSummary((*holder)->run_id.value, ctx.config.env, kExitCompleted, "");
        stopped_summary_->set_status(kJobRunning);
        return kExitCompleted;
      }
    }
    spdlog::error("{}", locked.message());
    stopped_by_ = locked.message();
    return locked.code() == StatusCode::kAborted ? kExitLocked : kExitFailed;
  }
  if (int exit_code = 0; !ctx.options.scheduled_for.empty() && SlotHasItsOutcome(ctx, &exit_code)) return exit_code;
  std::optional<DeadlineWatch> deadline;
  if (ctx.config.run.deadline_s > 0) deadline.emplace(*services_.control, ctx.config.run.deadline_s);
  ctx.notifier.emplace(ctx.config.notifications);
  ctx.notifier->RunStarted();
  if (ctx.metrics != nullptr) ctx.metrics->RunStarted();
  RetentionStage retention(ctx);
  RunOutcome outcome(ctx, retention);
  if (Status opened = setup.OpenJob(); !opened.ok()) return outcome.FinishWithoutJob(opened);

  // discover → fetch pages → gate → plan → dispatch → journal → merge, pass
  // after pass; then summary → state store → report → retention → notify.
  Status status = setup.StartLog();
  if (status.ok() && ctx.rediscover) status = SourceScan(ctx).Run();
  if (status.ok()) status = PassLoop(ctx, retention).Run(services_.shared_fleet);
  return outcome.Finish(status);
}

bool RunEngine::SlotHasItsOutcome(RunContext& ctx, int* exit_code) {
  const std::string& slot = ctx.options.scheduled_for;
  Result<std::optional<StoredRun>> latest = ctx.store->LatestRunOfSlot(ctx.config.env, slot);
  if (!latest.ok()) {
    spdlog::error("{}", latest.status().message());
    stopped_by_ = latest.status().message();
    *exit_code = kExitFailed;
    return true;
  }
  switch (ActionForSlot(*latest)) {
    case SlotAction::kRun:
      spdlog::info("schedule slot {}: its first run", slot);
      return false;
    case SlotAction::kResume: {
      const StoredRun& earlier = **latest;
      spdlog::warn("schedule slot {}: run {} ended {}; resuming its job {}", slot, earlier.run_id.value,
                   earlier.status == kJobRunning ? "without recording an outcome (its process died)" : earlier.status,
                   earlier.job_dir);
      ctx.options.resume = true;
      ctx.options.resume_from.clear();
      ctx.options.job_dir = earlier.job_dir;
      return false;
    }
    case SlotAction::kDone:
      break;
  }
  // One outcome per slot: its summary again, and no second notification.
  const StoredRun& done = **latest;
  spdlog::info("schedule slot {} already has its outcome: run {} ended {} (exit {}); nothing to do", slot,
               done.run_id.value, done.status, done.exit_code);
  RunSummary summary;
  if (!FromJson(done.summary_json, &summary).ok()) {
    summary = StoppedRunSummary(done.run_id.value, ctx.config.env, done.exit_code, "");
    summary.set_status(done.status);
  }
  stopped_summary_ = summary;
  *exit_code = kExitCompleted;
  return true;
}

}  // namespace ingest
