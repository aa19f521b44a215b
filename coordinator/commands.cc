// The command-line entry points of ingest-coordinator (coordinator.h): they
// load the config, build the objects and run them.

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <iostream>

#include "common/config.h"
#include "common/curve_keys.h"
#include "common/proto_json.h"
#include "common/signals.h"
#include "coordinator/admin/admin_server.h"
#include "coordinator/admin/run_registry.h"
#include "coordinator/coordinator.h"
#include "coordinator/fleet/fleet.h"
#include "coordinator/metrics/metrics.h"
#include "coordinator/metrics/metrics_server.h"
#include "coordinator/notify/notifications.h"
#include "coordinator/pass/job_verify.h"
#include "coordinator/run/retention.h"
#include "coordinator/run/run_control.h"
#include "coordinator/run/run_engine.h"
#include "coordinator/run/run_outcome.h"
#include "coordinator/run/schedule_slot.h"
#include "coordinator/state/run_lock.h"
#include "coordinator/web/web_server.h"

namespace ingest {

int RunCoordinator(const RunOptions& options) {
  // Stopped before the run began: the error, and a summary line on stdout
  // for whoever parses the run's output (a CronJob's log).
  auto stop = [](int exit_code, const std::string& env, const std::string& error) {
    spdlog::error("{}", error);
    std::cout << ToJson(StoppedRunSummary("", env, exit_code, error)) << std::endl;
    return exit_code;
  };
  Result<Config> config = LoadConfig(options.config_file);
  if (!config.ok()) return stop(kExitUsage, options.env, config.status().message());
  if (!options.env.empty() && !IsValidEnvName(options.env)) {
    return stop(kExitUsage, "", "--env '" + options.env + "' is not [a-z0-9-]+");
  }
  SetLogRedactor(SecretRedactor(*config));
  // SIGTERM (a deleted Job, a drained node) and SIGINT cancel the run: it
  // stops dispatching, lets running tasks finish, records itself cancelled
  // and exits 128 + the signal's number.
  CatchStopSignals();
  if (!options.env.empty()) config->env = options.env;
  if (!options.web_listen.empty()) config->web.listen = options.web_listen;
  FleetView workers;
  CoordinatorMetrics metrics(&workers);
  Result<std::unique_ptr<MetricsServer>> metrics_server = MetricsServer::StartIfListening(config->metrics, metrics);
  if (!metrics_server.ok()) return stop(kExitFailed, config->env, metrics_server.status().message());
  // With admin.listen the run serves the API for itself, so a CronJob's run
  // can be watched, cancelled and its report read; with web.listen its
  // status page.
  const std::string listen = !options.admin_listen.empty() ? options.admin_listen : config->admin.listen;
  RunOptions with_id = options;
  if (!options.scheduled_for.empty()) {
    Result<std::string> slot = ParseScheduleSlot(options.scheduled_for);
    if (!slot.ok()) return stop(kExitUsage, config->env, slot.status().message());
    with_id.scheduled_for = *slot;
    if (slot->empty()) {
      spdlog::info(
          "--scheduled-for {}: a Job not made on a schedule (its name does not end in the slot); the run "
          "has no schedule slot",
          options.scheduled_for);
    }
  }
  std::shared_ptr<RunControl> control;
  std::unique_ptr<RunRegistry> registry;  // outlives the admin server and the status page
  std::unique_ptr<AdminServer> admin;
  std::unique_ptr<WebServer> web;
  if (listen.empty() && config->web.listen.empty()) {
    with_id.run_id = MakeRunId(std::chrono::system_clock::now(), ::getpid()).value;
    control = NewRunControl(with_id, config->env, RunId{with_id.run_id}, true);
  } else {
    registry = std::make_unique<RunRegistry>(*config, false, &workers);
    control = registry->NewRun(&with_id, true);
    if (!listen.empty()) {
      Result<std::unique_ptr<AdminServer>> started = AdminServer::Start(config->admin, listen, *registry);
      if (!started.ok()) return stop(kExitFailed, config->env, started.status().message());
      admin = std::move(*started);
    }
    Result<std::unique_ptr<WebServer>> page = WebServer::StartIfListening(*config, *registry);
    if (!page.ok()) return stop(kExitFailed, config->env, page.status().message());
    web = std::move(*page);
  }
  RunEngine engine(with_id, *config, {.control = control, .fleet_view = &workers, .metrics = &metrics});
  const int exit_code = engine.Run();
  if (!config->metrics.pushgateway_url.empty()) {
    // The run's process ends now, before any scrape: its figures go to the
    // Pushgateway. A failed push changes nothing about the run.
    if (Status pushed = PushMetrics(metrics, config->metrics.pushgateway_url, config->env); pushed.ok()) {
      spdlog::info("metrics: pushed to the Pushgateway");
    } else {
      spdlog::warn("{}", pushed.message());
    }
  }
  if (web) web->Stop();
  if (admin) admin->Shutdown();
  return exit_code;
}

int CheckConfig(const std::string& config_file, bool syntax_only) {
  Result<Config> config = LoadConfig(config_file);
  if (!config.ok()) {
    std::cerr << config.status().message() << "\n";
    return kExitUsage;
  }
  std::vector<std::string> problems = syntax_only ? std::vector<std::string>{} : CheckSourceRoots(*config);
  for (const std::string& problem : problems) std::cerr << problem << "\n";
  if (!problems.empty()) return kExitUsage;
  std::cout << config_file << ": OK (env " << config->env << ", " << config->sources.size() << " sources)\n";
  return kExitCompleted;
}

int VerifyJobDir(const std::string& job_dir) {
  JobVerification checked = VerifyJob(job_dir);
  for (const std::string& problem : checked.problems) std::cout << problem << "\n";
  if (!checked.ok()) {
    std::cout << job_dir << ": " << checked.problems.size() << " problems\n";
    return kExitFailed;
  }
  std::cout << job_dir << ": OK (" << checked.artifacts << " artifacts re-hashed, " << checked.records
            << " records re-validated, " << checked.documents << " documents)\n";
  return kExitCompleted;
}

int ApplyRetention(const std::string& config_file) {
  Result<Config> config = LoadConfig(config_file);
  if (!config.ok()) {
    spdlog::error("{}", config.status().message());
    return kExitUsage;
  }
  SetLogRedactor(SecretRedactor(*config));
  Result<StateStore> store = StateStore::Open(config->state_db);
  if (!store.ok()) {
    spdlog::error("{}", store.status().message());
    return kExitFailed;
  }
  Result<std::unique_ptr<RunLock>> lock =
      RunLock::Acquire(*store, config->env, RunId{fmt::format("retention_{}", ::getpid())});
  if (!lock.ok()) {
    spdlog::error("{}", lock.status().message());
    return lock.status().code() == StatusCode::kAborted ? kExitLocked : kExitFailed;
  }
  const std::filesystem::path env_dir = config->artifact_root / "ingest" / config->env;
  const WallTime now = std::chrono::system_clock::now();
  // Deleting first: no point in compressing a log about to go.
  Result<uint32_t> deleted = RemoveStaleJobs(env_dir, "", config->retention, now);
  Result<uint32_t> compressed = deleted.ok() ? CompressStaleLogs(env_dir, "", config->retention, now) : deleted;
  lock->reset();
  if (!compressed.ok()) {
    spdlog::error("retention: {}", compressed.status().message());
    return kExitFailed;
  }
  std::cout << "retention: env " << config->env << ": " << *compressed << " run logs gzipped (older than "
            << config->retention.compress_after_days << " days), " << *deleted
            << " job directories deleted (older than " << config->retention.delete_after_days
            << " days, keeping the last " << config->retention.keep_last_jobs << " completed)\n";
  return kExitCompleted;
}

int GenerateKeys(const std::string& prefix) {
  Result<CurveKeyPair> keys = GenerateCurveKeyPair();
  Status written = keys.ok() ? WriteCurveKeyPair(prefix, *keys) : keys.status();
  if (!written.ok()) {
    std::cerr << written.message() << "\n";
    return kExitFailed;
  }
  std::cout << prefix << ".key (secret), " << prefix << ".pub: " << keys->public_key << "\n";
  return kExitCompleted;
}

}  // namespace ingest
