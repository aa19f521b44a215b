#include "coordinator/run/run_engine.h"

#include <spdlog/spdlog.h>

#include "coordinator/run/dry_run.h"
#include "coordinator/run/job_setup.h"
#include "coordinator/run/pass_loop.h"
#include "coordinator/run/retention_stage.h"
#include "coordinator/run/run_context.h"
#include "coordinator/run/run_outcome.h"
#include "coordinator/run/source_scan.h"

namespace ingest {

RunEngine::RunEngine(RunOptions options, Config config, Fleet* shared_fleet)
    : options_(std::move(options)), config_(std::move(config)), shared_fleet_(shared_fleet) {}

int RunEngine::Run() {
  RunContext ctx(options_, config_);
  JobSetup setup(ctx);
  if (Status passes = setup.ResolvePasses(); !passes.ok()) {
    spdlog::error("{}", passes.message());
    return kExitUsage;
  }
  if (ctx.options.dry_run) return DryRun(ctx);

  // The env's run lock before anything else is touched.
  if (Status locked = setup.Lock(); !locked.ok()) {
    spdlog::error("{}", locked.message());
    return locked.code() == StatusCode::kAborted ? kExitLocked : kExitFailed;
  }
  ctx.notifier.emplace(ctx.config.notifications);
  ctx.notifier->RunStarted();
  RetentionStage retention(ctx);
  RunOutcome outcome(ctx, retention);
  if (Status opened = setup.OpenJob(); !opened.ok()) return outcome.FinishWithoutJob(opened);

  // discover → fetch pages → gate → plan → dispatch → journal → merge, pass
  // after pass; then summary → state store → report → retention → notify.
  Status status = setup.StartLog();
  if (status.ok() && ctx.rediscover) status = SourceScan(ctx).Run();
  if (status.ok()) status = PassLoop(ctx, retention).Run(shared_fleet_);
  return outcome.Finish(status);
}

}  // namespace ingest
