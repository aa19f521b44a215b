#pragma once

#include <chrono>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <vector>

#include "common/artifact.h"
#include "common/config.h"
#include "common/ids.h"
#include "common/run_log.h"
#include "coordinator/sources/change_detection.h"
#include "coordinator/coordinator.h"
#include "coordinator/notify/failure_report.h"
#include "coordinator/notify/notifications.h"
#include "coordinator/pass/record_mirror.h"
#include "coordinator/state/run_lock.h"
#include "coordinator/state/state_store.h"
#include "proto/fleet.pb.h"
#include "proto/manifest.pb.h"

namespace ingest {

class Fleet;

// One run of the coordinator against one job: resolves the job directory and
// manifest, discovers documents, brings up the fleet, passes each gate and
// executes the passes, then records the outcome. Single-threaded.
class RunEngine {
 public:
  // With `shared_fleet` (the serve daemon's, bound and kept up between
  // runs) the run uses it instead of bringing up its own.
  RunEngine(RunOptions options, Config config, Fleet* shared_fleet = nullptr);
  ~RunEngine();

  // Returns the process exit code; the summary JSON is the last stdout line.
  int Run();

 private:
  Status ResolvePasses();
  // Opens the state store and takes the env's run lock, before anything else.
  Status OpenStateStore();
  Status PrepareJob();
  // Finds the documents of due files sources; due http sources wait in
  // pending_pages_ for the fleet.
  Status DiscoverDocuments();
  // Has the fleet fetch the pages of due http sources and adds them.
  Status FetchPages(Fleet& fleet);
  // Writes what discovery found (documents, change events) to the store.
  Status CommitDiscovery();
  // CommitDiscovery when this run discovered, then the previous job and the
  // manifest: what every pass needs before it starts.
  Status SettleDiscovery();
  void CountTasks(const PassMetrics& metrics);
  // Whether a source is checked in this run (its check_frequency).
  Result<bool> SourceDue(const SourceConfig& source);
  // A source that is not due keeps the documents the store last saw.
  void AddNotDue(const SourceConfig& source, const std::map<std::string, StoredDocument>& stored);
  // Adds one source's detected documents to the manifest and the counts.
  void AddDetected(const SourceConfig& source, SourceChanges changes);
  // The job whose results unchanged documents are carried forward from.
  Status FindPreviousJob();
  // What the pass's output depends on, as PassRecord.input_digest.
  std::string PassInputDigest(Pass pass) const;
  // Copies the pass from the previous job when its input digest is the same;
  // false when it has to run.
  Result<bool> CarryPass(Pass pass, PassRecord& record);
  // Writes the run's outcome to the state store: documents, sources, change
  // events, the run, its passes and the audit event. Logged, never fatal.
  // `documents_settled` is false when a pass failed: outcomes stay as they were.
  void RecordState(const RunSummary& summary, bool documents_settled);
  Status SaveManifest();
  // Runs one pass behind its gate; a non-ok status fails the run.
  Status RunPass(Fleet& fleet, Pass pass);
  // Waits for the fleet and runs every pass; the status is the fleet's.
  Status RunPasses(Fleet& fleet);
  int Finish(const Status& fatal);
  // With OPENAI_API_KEY set: the AI section of the failure report.
  void AddAiSection(FailureReportInput& input) const;
  // Retention: gzips the run logs of this env's older jobs.
  void CompressOldLogs() const;
  int DryRun();
  // "coordinator CPU 2.31 s, 190 us per task", for the final log line.
  std::string CpuReport() const;

  RunOptions options_;
  Config config_;
  Fleet* shared_fleet_ = nullptr;
  RunId run_id_;
  WallTime started_;
  std::chrono::steady_clock::time_point started_steady_;
  std::vector<Pass> passes_;
  bool rediscover_ = false;
  std::filesystem::path job_dir_;
  Manifest manifest_;
  RunRecord* run_record_ = nullptr;
  std::unique_ptr<RunLog> run_log_;
  std::optional<Notifier> notifier_;
  std::optional<StateStore> store_;
  std::unique_ptr<RunLock> lock_;  // after store_: released before the store closes
  std::filesystem::path previous_job_;
  std::optional<Manifest> previous_manifest_;
  DocumentCounts counts_;                                 // new, changed, unchanged, deleted
  std::vector<ChangeEvent> changes_;                       // recorded at the end of the run
  std::map<std::string, StoredDocument> stored_updates_;  // by source_id, written at the end
  TaskCounts tasks_;
  std::vector<std::string> errors_;
  bool pass_failed_ = false;
  struct PendingHttpSource {
    const SourceConfig* source;
    std::map<std::string, StoredDocument> stored;
  };
  std::vector<PendingHttpSource> pending_pages_;
  // Artifacts this run wrote and read back, for the gates of later passes,
  // and their binary mirrors, for reading upstream records.
  std::map<Pass, ArtifactScan> verified_;
  std::map<Pass, RecordMirror> mirrors_;
};


}  // namespace ingest
