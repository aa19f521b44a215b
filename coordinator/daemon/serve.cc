#include "coordinator/daemon/serve.h"

#include <absl/time/clock.h>
#include <spdlog/spdlog.h>

#include <csignal>

#include "common/config.h"
#include "common/manifest.h"
#include "common/signals.h"
#include "coordinator/admin/admin_server.h"
#include "coordinator/admin/run_registry.h"
#include "coordinator/coordinator.h"
#include "coordinator/fleet/fleet.h"
#include "coordinator/metrics/metrics.h"
#include "coordinator/metrics/metrics_server.h"
#include "coordinator/notify/notifications.h"
#include "coordinator/run/run_control.h"
#include "coordinator/run/run_engine.h"
#include "coordinator/run/schedule_slot.h"
#include "coordinator/state/state_store.h"
#include "coordinator/web/web_server.h"

namespace ingest {
namespace {

// Idle waits are cut into slices so a changed wall clock is noticed.
constexpr absl::Duration kIdleSlice = absl::Seconds(30);

}  // namespace

absl::Time NextRunTime(const CronExpression& cron, const absl::TimeZone& zone, std::optional<absl::Time> last_run,
                       absl::Time now) {
  if (last_run && cron.Previous(now, zone) > *last_run) return now;
  return cron.Next(now, zone);
}

int ServeDaemon(const ServeOptions& options) {
  Result<Config> config = LoadConfig(options.config_file);
  if (!config.ok()) {
    spdlog::error("{}", config.status().message());
    return kExitUsage;
  }
  SetLogRedactor(SecretRedactor(*config));
  const absl::TimeZone zone = *LoadZone(config->schedule.timezone);
  const CronExpression cron = *CronExpression::Parse(config->schedule.cron);
  if (config->fleet.curve() && options.local_workers > 0) {
    spdlog::error("serve --local-workers cannot be combined with fleet.curve; start workers with their own keys");
    return kExitUsage;
  }
  std::optional<absl::Time> last_run;
  FleetView workers;
  CoordinatorMetrics metrics(&workers);
  {
    Result<StateStore> store = StateStore::Open(config->state_db);
    if (!store.ok()) {
      spdlog::error("{}", store.status().message());
      return kExitFailed;
    }
    Result<std::optional<std::string>> started = store->LastRunStart(config->env);
    if (started.ok() && *started) last_run = ParseTimestamp(**started);
    // The last success survives a restart of the daemon.
    Result<std::vector<StoredRun>> completed = store->Runs(config->env, kJobCompleted, std::nullopt, 1);
    if (completed.ok() && !completed->empty()) {
      if (std::optional<absl::Time> ended = ParseTimestamp(completed->front().ended_at)) {
        metrics.SetLastSuccess(absl::ToChronoTime(*ended));
      }
    }
  }
  Result<std::unique_ptr<MetricsServer>> metrics_server = MetricsServer::StartIfListening(config->metrics, metrics);
  if (!metrics_server.ok()) {
    spdlog::error("{}", metrics_server.status().message());
    return kExitFailed;
  }

  // SIGTERM or SIGINT: a run in progress is cancelled (resumable), then
  // the daemon stops.
  CatchStopSignals();
  RunRegistry registry(*config, true, &workers);
  const std::string listen = !options.admin_listen.empty()   ? options.admin_listen
                             : !config->admin.listen.empty() ? config->admin.listen
                                                             : kDefaultAdminListen;
  Result<std::unique_ptr<AdminServer>> admin = AdminServer::Start(config->admin, listen, registry);
  if (!admin.ok()) {
    spdlog::error("{}", admin.status().message());
    return kExitFailed;
  }
  if (!options.web_listen.empty()) config->web.listen = options.web_listen;
  Result<std::unique_ptr<WebServer>> web = WebServer::StartIfListening(*config, registry);
  if (!web.ok()) {
    spdlog::error("{}", web.status().message());
    return kExitFailed;
  }
  {
    Result<std::unique_ptr<Fleet>> started = Fleet::Start(config->fleet, config->retry,
                                                          {.bind = options.bind,
                                                           .local_workers = options.local_workers,
                                                           .local_worker_slots = options.local_worker_slots,
                                                           .view = &workers});
    if (!started.ok()) {
      spdlog::error("{}", started.status().message());
      return kExitFailed;
    }
    Fleet& fleet = **started;
    auto interrupted = [&registry] { return CaughtStopSignal() != 0 || registry.has_queued(); };
    while (CaughtStopSignal() == 0) {
      const absl::Time next = NextRunTime(cron, zone, last_run, absl::Now());
      if (next == absl::InfiniteFuture()) {
        spdlog::error("schedule '{}' never fires; stopping", cron.text());
        break;
      }
      const bool catch_up = last_run && next <= absl::Now();
      // The firing this run is for: a run for a slot that already has its
      // outcome (from a CronJob, or before a restart) is not made twice.
      const absl::Time slot = catch_up ? cron.Previous(absl::Now(), zone) : next;
      spdlog::info("serve: {} run at {} ({})", catch_up ? "catching up a missed" : "next",
                   absl::FormatTime("%Y-%m-%d %H:%M:%S %Z", next, zone), config->schedule.timezone);
      while (!interrupted() && absl::Now() < next) {
        const absl::Duration wait = std::min(next - absl::Now(), kIdleSlice);
        Status idle = fleet.Idle(std::chrono::steady_clock::now() + absl::ToChronoMilliseconds(wait), interrupted);
        if (!idle.ok()) {
          spdlog::error("{}", idle.message());
          return kExitFailed;
        }
      }
      if (CaughtStopSignal() != 0) break;
      if (std::optional<RunRegistry::Queued> queued = registry.TakeQueued()) {
        // Asked for through the API; the schedule is not moved by it.
        const std::string id = queued->options.run_id;
        queued->options.log_file = options.log_file;
        RunEngine engine(
            std::move(queued->options), *config,
            {.shared_fleet = &fleet, .control = queued->control, .fleet_view = &workers, .metrics = &metrics});
        spdlog::info("serve: run {} (api) ended with exit code {}", id, engine.Run());
        continue;
      }
      const absl::Time run_start = absl::Now();
      RunOptions run;
      run.config_file = options.config_file;
      run.log_file = options.log_file;
      run.scheduled_for = FormatScheduleSlot(slot);
      run.flags = {"serve", "--scheduled-for", run.scheduled_for};
      std::shared_ptr<RunControl> control = registry.NewRun(&run, true);
      RunEngine engine(run, *config,
                       {.shared_fleet = &fleet, .control = control, .fleet_view = &workers, .metrics = &metrics});
      const int code = engine.Run();
      spdlog::info("serve: scheduled run ended with exit code {}", code);
      last_run = run_start;
      const absl::Time now = absl::Now();
      if (cron.Next(run_start, zone) < now) {
        spdlog::warn(
            "serve: the schedule fired while the run was in progress; runs never overlap, so that firing "
            "is skipped");
        last_run = now;  // the skipped firing is not a missed one
      }
    }
    spdlog::info("serve: stopping on {}", CaughtStopSignal() != 0 ? "signal" : "error");
  }
  if (*web) (*web)->Stop();
  (*admin)->Shutdown();
  return kExitCompleted;
}

}  // namespace ingest
