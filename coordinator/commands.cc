// The command-line entry points of ingest-coordinator (coordinator.h): they
// load the config, build the objects and run them.

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <iostream>

#include "common/config.h"
#include "common/curve_keys.h"
#include "common/signals.h"
#include "coordinator/admin/admin_server.h"
#include "coordinator/admin/run_registry.h"
#include "coordinator/coordinator.h"
#include "coordinator/fleet/fleet.h"
#include "coordinator/notify/notifications.h"
#include "coordinator/run/retention.h"
#include "coordinator/run/run_control.h"
#include "coordinator/run/run_engine.h"
#include "coordinator/state/run_lock.h"

namespace ingest {

int RunCoordinator(const RunOptions& options) {
  Result<Config> config = LoadConfig(options.config_file);
  if (!config.ok()) {
    spdlog::error("{}", config.status().message());
    return kExitUsage;
  }
  if (!options.env.empty() && !IsValidEnvName(options.env)) {
    spdlog::error("--env '{}' is not [a-z0-9-]+", options.env);
    return kExitUsage;
  }
  SetLogRedactor(SecretRedactor(*config));
  // SIGTERM (a deleted Job, a drained node) and SIGINT cancel the run: it
  // stops dispatching, lets running tasks finish, records itself cancelled
  // and exits 128 + the signal's number.
  CatchStopSignals();
  const std::string listen = !options.admin_listen.empty() ? options.admin_listen : config->admin.listen;
  if (listen.empty()) {
    RunOptions with_id = options;
    with_id.run_id = MakeRunId(std::chrono::system_clock::now(), ::getpid()).value;
    const std::string env = options.env.empty() ? config->env : options.env;
    RunEngine engine(with_id, std::move(*config), nullptr, NewRunControl(with_id, env, RunId{with_id.run_id}, true));
    return engine.Run();
  }
  // With admin.listen the run serves the API for itself, so a CronJob's run
  // can be watched, cancelled and its report read.
  if (!options.env.empty()) config->env = options.env;
  FleetView workers;
  RunRegistry registry(*config, false, &workers);
  RunOptions with_id = options;
  std::shared_ptr<RunControl> control = registry.NewRun(&with_id, true);
  Result<std::unique_ptr<AdminServer>> admin = AdminServer::Start(config->admin, listen, registry);
  if (!admin.ok()) {
    spdlog::error("{}", admin.status().message());
    return kExitFailed;
  }
  RunEngine engine(with_id, *config, nullptr, control, &workers);
  const int exit_code = engine.Run();
  (*admin)->Shutdown();
  return exit_code;
}

int CheckConfig(const std::string& config_file) {
  Result<Config> config = LoadConfig(config_file);
  if (!config.ok()) {
    std::cerr << config.status().message() << "\n";
    return kExitUsage;
  }
  std::cout << config_file << ": OK (env " << config->env << ", " << config->sources.size() << " sources)\n";
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
