#pragma once

#include <chrono>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/artifact.h"
#include "common/config.h"
#include "common/ids.h"
#include "common/run_log.h"
#include "coordinator/coordinator.h"
#include "coordinator/fleet/fleet.h"
#include "coordinator/notify/notifications.h"
#include "coordinator/pass/pass_results.h"
#include "coordinator/run/run_control.h"
#include "coordinator/state/run_lock.h"
#include "coordinator/state/state_store.h"
#include "proto/manifest.pb.h"

namespace ingest {

class CoordinatorMetrics;

// A due http source: its pages are fetched by the fleet once it is up,
// before pass A.
struct PendingHttpSource {
  const SourceConfig* source = nullptr;
  std::map<std::string, StoredDocument> stored;  // what the store knew of its documents
};

// What discovery found, made durable once the document set is settled
// (SourceScan::Commit, which then lets go of the changes and updates) and at
// the end of the run.
struct Discovery {
  DocumentCounts counts;  // new, changed, unchanged, deleted
  std::vector<ChangeEvent> changes;
  // By source_id: the rows that differ from the store's; empty once committed.
  std::map<std::string, StoredDocument> stored_updates;
  std::vector<PendingHttpSource> pending_pages;
};

// What the stages of one run share (README, "Architecture"), handed from
// stage to stage: each stage's header says which parts it reads and which it
// writes. Single-threaded, like the run.
struct RunContext {
  // --env, when given, replaces the config's env. `control` is the run's
  // outside view (never null); `fleet_view`, where a fleet the run brings
  // up publishes its workers (may be null).
  // `metrics` may be null.
  RunContext(RunOptions options, Config config, std::shared_ptr<RunControl> control, FleetView* fleet_view,
             CoordinatorMetrics* metrics = nullptr);

  // ---- Given at the start; they never change, but for `options` of a run
  // for a schedule slot whose earlier run failed: it becomes that job's
  // resume (RunEngine, once it holds the lock).
  RunOptions options;
  const Config config;
  const RunId run_id;
  const WallTime started;
  const std::chrono::steady_clock::time_point started_steady;
  // Shared with the admin API, which watches and may cancel the run.
  const std::shared_ptr<RunControl> control;
  FleetView* const fleet_view;
  CoordinatorMetrics* const metrics;

  // ---- Job set-up.
  std::vector<Pass> passes;  // to run, in order
  // The sources are discovered again: a new job, or the pass that defines
  // the documents reruns.
  bool rediscover = false;
  std::optional<StateStore> store;
  std::unique_ptr<RunLock> lock;  // after `store`, so it is released while the store is open
  std::optional<Notifier> notifier;
  std::filesystem::path job_dir;
  Manifest manifest;
  RunRecord* run_record = nullptr;  // this run's entry in manifest.runs, once the job is open
  std::unique_ptr<RunLog> log;
  std::filesystem::path log_path;  // where `log` writes

  // ---- Source scan.
  Discovery discovery;

  // ---- Pass loop.
  TaskCounts tasks;
  bool pass_failed = false;
  // Artifacts this run wrote or checked, for the gates of later passes, and
  // the results they were merged from, for the tasks of later passes.
  std::map<Pass, ArtifactScan> verified;
  std::map<Pass, PassResults> results;

  // ---- Every stage: the run's errors, in order, for the summary.
  std::vector<std::string> errors;

  // --passes or --resume-from: an operator's rerun recomputes instead of
  // reusing earlier results.
  bool explicit_rerun() const { return !options.passes.empty() || !options.resume_from.empty(); }
  // A refresh or a baseline reads and recomputes everything.
  bool recompute_all() const { return options.full_refresh || options.baseline; }
  // The env's directory of jobs: {artifact_root}/ingest/{env}.
  std::filesystem::path env_dir() const { return config.artifact_root / "ingest" / config.env; }
  Status SaveManifest();
  // Adds a pass's (or the page fetch's) task counters to the run's.
  void CountTasks(const PassMetrics& metrics);
  // A pass ended: watchers and metrics learn it. `error` "" on success.
  void PassEnded(Pass pass, const PassRecord& record, const std::string& error);
  // The run's last word: watchers, metrics (with the notifications sent).
  void RunEnded(const RunSummary& summary, const std::string& report_path, int exit_code);
};

// Seconds on the monotonic clock since `start`.
double SecondsSince(std::chrono::steady_clock::time_point start);

}  // namespace ingest
