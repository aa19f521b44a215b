#include "coordinator/run/run_engine.h"

#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <iostream>
#include <numeric>
#include <thread>

#include <spdlog/spdlog.h>

#include "common/atomic_file.h"
#include "common/curve_keys.h"
#include "common/manifest.h"
#include "common/pass.h"
#include "common/proto_json.h"
#include "common/redact.h"
#include "common/sha256.h"
#include "coordinator/notify/ai_report.h"
#include "coordinator/fleet/fleet.h"
#include "coordinator/sources/discovery.h"
#include "coordinator/notify/failure_report.h"
#include "coordinator/pass/gate.h"
#include "coordinator/sources/http_source.h"
#include "coordinator/notify/notifications.h"
#include "coordinator/pass/pass_executor.h"
#include "coordinator/run/retention.h"
#include "coordinator/sources/check_frequency.h"

namespace ingest {
namespace {

constexpr size_t kSummaryErrors = 5;

double SecondsSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// The newest job directory of an env (job ids sort by time).
Result<std::filesystem::path> LatestJob(const std::filesystem::path& env_dir) {
  std::error_code ec;
  std::vector<std::filesystem::path> jobs;
  for (const auto& entry : std::filesystem::directory_iterator(env_dir, ec)) {
    if (entry.is_directory() && IsValidJobId(entry.path().filename().string())) jobs.push_back(entry.path());
  }
  if (ec) return ErrnoStatus(ec.value(), env_dir.string());
  if (jobs.empty()) return NotFound("no job under " + env_dir.string() + " to resume; pass --job-dir");
  return *std::max_element(jobs.begin(), jobs.end());
}

void ResetPass(PassRecord* record) {
  record->Clear();
  record->set_status(kPassPending);
}

}  // namespace

RunEngine::RunEngine(RunOptions options, Config config, Fleet* shared_fleet)
    : options_(std::move(options)),
      config_(std::move(config)),
      shared_fleet_(shared_fleet),
      run_id_(MakeRunId(std::chrono::system_clock::now(), ::getpid())),
      started_(std::chrono::system_clock::now()),
      started_steady_(std::chrono::steady_clock::now()) {
  if (!options_.env.empty()) config_.env = options_.env;
}

RunEngine::~RunEngine() = default;

Status RunEngine::ResolvePasses() {
  if (!options_.passes.empty() && !options_.resume_from.empty()) {
    return InvalidArgument("--passes and --resume-from cannot be combined");
  }
  if (!options_.passes.empty()) {
    INGEST_ASSIGN_OR_RETURN(passes_, ParsePassList(options_.passes));
    return Status::Ok();
  }
  Pass first = Pass::PASS_A;
  if (!options_.resume_from.empty()) {
    INGEST_ASSIGN_OR_RETURN(first, ParsePass(options_.resume_from));
  }
  for (Pass p : kAllPasses) {
    if (p >= first) passes_.push_back(p);
  }
  return Status::Ok();
}

Status RunEngine::PrepareJob() {
  namespace fs = std::filesystem;
  const fs::path env_dir = config_.artifact_root / "ingest" / config_.env;
  const bool needs_existing = !options_.resume_from.empty() || options_.resume;
  if (!options_.job_dir.empty()) {
    job_dir_ = fs::absolute(options_.job_dir).lexically_normal();
  } else if (needs_existing) {
    INGEST_ASSIGN_OR_RETURN(job_dir_, LatestJob(env_dir));
    spdlog::info("resuming the latest job {}", job_dir_.string());
  } else {
    // Job ids have one-second resolution: wait out a collision with a job
    // started in the same second rather than share its directory.
    for (int waited_ms = 0;; waited_ms += 250) {
      job_dir_ = env_dir / MakeJobId(std::chrono::system_clock::now()).value;
      if (!fs::exists(job_dir_)) break;
      if (waited_ms >= 2000) return FailedPrecondition(job_dir_.string() + " exists and is not this run's");
      std::this_thread::sleep_for(std::chrono::milliseconds(250));
    }
  }
  std::error_code ec;
  fs::create_directories(job_dir_, ec);
  if (ec) return ErrnoStatus(ec.value(), "job directory " + job_dir_.string());
  if (::access(job_dir_.c_str(), W_OK) != 0) return ErrnoStatus(errno, "job directory " + job_dir_.string());

  // A killed run can leave the temp file of an artifact or manifest it was
  // writing: half-written, never trusted.
  for (const auto& entry : fs::directory_iterator(job_dir_, ec)) {
    const std::string name = entry.path().filename().string();
    if (entry.is_regular_file() && name.find(".tmp.") != std::string::npos) {
      spdlog::warn("removing {}, left half-written by an interrupted run", entry.path().string());
      fs::remove(entry.path(), ec);
    }
  }
  const fs::path manifest_path = job_dir_ / kManifestFileName;
  if (fs::exists(manifest_path)) {
    INGEST_ASSIGN_OR_RETURN(manifest_, LoadManifest(manifest_path));
    if (manifest_.env() != config_.env) {
      return FailedPrecondition("job " + job_dir_.string() + " belongs to env '" + manifest_.env() + "', not '" +
                                config_.env + "'");
    }
  } else {
    if (needs_existing) return NotFound(manifest_path.string() + ": nothing to resume");
    manifest_ = NewManifest(job_dir_.filename().string(), config_.env);
  }

  if (options_.resume) {
    // Continue from the first pass that is not SUCCESS.
    passes_.clear();
    for (Pass p : kAllPasses) {
      if (!passes_.empty() || PassEntry(manifest_, p).status() != kPassSuccess) passes_.push_back(p);
    }
    if (passes_.empty()) spdlog::info("job {} has every pass SUCCESS; nothing to resume", manifest_.job_id());
  }
  // Rerunning the pass that defines the documents rediscovers the sources.
  rediscover_ = manifest_.documents().empty() || (!passes_.empty() && Describe(passes_.front()).defines_documents);

  run_record_ = manifest_.add_runs();
  run_record_->set_run_id(run_id_.value);
  run_record_->set_trigger(options_.manual ? "manual" : "schedule");
  for (const std::string& f : options_.flags) run_record_->add_flags(f);
  run_record_->set_started(FormatTimestamp(started_));
  run_record_->set_status(kJobRunning);
  manifest_.set_status(kJobRunning);
  for (Pass p : passes_) {
    ResetPass(&PassEntry(manifest_, p));
    // Documents that failed in a pass being rerun get another chance.
    for (auto& [id, doc] : *manifest_.mutable_documents()) {
      if (doc.status() == kDocFailed && doc.failed_pass() == PassLetter(p)) {
        doc.set_status(kDocProcessed);
        doc.clear_error_class();
        doc.clear_error();
        doc.clear_failed_pass();
      }
    }
  }
  return Status::Ok();
}

Status RunEngine::DiscoverDocuments() {
  manifest_.clear_documents();
  manifest_.clear_sources();
  manifest_.clear_source_sha_map();
  const bool hash_all = options_.full_refresh || options_.baseline;
  for (const SourceConfig& source : config_.sources) {
    if (!options_.sources.empty() &&
        std::find(options_.sources.begin(), options_.sources.end(), source.name) == options_.sources.end()) {
      continue;
    }
    SourceRecord& record = (*manifest_.mutable_sources())[source.name];
    record.set_kind(source.kind);
    INGEST_ASSIGN_OR_RETURN(auto stored, store_->Documents(config_.env, source.name));
    INGEST_ASSIGN_OR_RETURN(bool due, SourceDue(source));
    if (!due) {
      AddNotDue(source, stored);
      continue;
    }
    if (source.kind == "http") {
      // Fetched by the fleet once it is up (FetchPages).
      pending_pages_.push_back({&source, std::move(stored)});
      continue;
    }
    Result<std::vector<DiscoveredDocument>> docs = ingest::DiscoverDocuments(source);
    if (!docs.ok()) {
      record.set_status("failed");
      errors_.push_back(docs.status().message());
      LogEvent(spdlog::level::err, {.status = "failed", .error = "source_unreadable"}, docs.status().message());
      continue;
    }
    SourceChanges changes = DetectChanges(source, std::move(*docs), stored, hash_all);
    AddDetected(source, std::move(changes));
  }
  for (const std::string& name : options_.sources) {
    if (manifest_.sources().count(name) == 0) return InvalidArgument("--source " + name + ": no such source in the config");
  }
  return Status::Ok();
}

Status RunEngine::FetchPages(Fleet& fleet) {
  PageStore pages(PageStore::DirOf(config_));
  PageFetchPlan plan(pages);
  const bool conditional = !options_.full_refresh && !options_.baseline;
  for (const PendingHttpSource& pending : pending_pages_) plan.AddSource(*pending.source, pending.stored, conditional);
  std::vector<size_t> order(plan.size());
  std::iota(order.begin(), order.end(), size_t{0});
  LogEvent(spdlog::level::info, {.status = "fetching", .count = plan.size()},
           "fetching " + std::to_string(plan.size()) + " pages of " + std::to_string(pending_pages_.size()) +
               " http sources");
  PassMetrics metrics;
  Status executed = fleet.Execute(order, plan, &metrics);
  metrics.set_tasks_total(static_cast<uint32_t>(plan.size()));
  CountTasks(metrics);
  INGEST_RETURN_IF_ERROR(executed);
  for (const PendingHttpSource& pending : pending_pages_) {
    std::vector<std::string> errors;
    AddDetected(*pending.source, plan.Settle(*pending.source, pending.stored, pages, &errors));
    if (errors.empty()) continue;
    (*manifest_.mutable_sources())[pending.source->name].set_status("failed");
    for (const std::string& error : errors) {
      errors_.push_back(error);
      LogEvent(spdlog::level::err, {.status = "failed", .error = "fetch_failed"}, error);
    }
  }
  pending_pages_.clear();
  return Status::Ok();
}

Status RunEngine::SettleDiscovery() {
  if (rediscover_) INGEST_RETURN_IF_ERROR(CommitDiscovery());
  INGEST_RETURN_IF_ERROR(FindPreviousJob());
  return SaveManifest();
}

Status RunEngine::CommitDiscovery() {
  *manifest_.mutable_changes() = counts_;
  // Durable now: a resumed run does not discover again.
  const std::string now = FormatTimestamp(std::chrono::system_clock::now());
  std::vector<StoredDocument> updates;
  for (const auto& [id, doc] : stored_updates_) updates.push_back(doc);
  INGEST_RETURN_IF_ERROR(store_->PutDocuments(config_.env, updates, now));
  INGEST_RETURN_IF_ERROR(store_->RecordChanges(config_.env, run_id_, changes_, now));
  return Status::Ok();
}

void RunEngine::AddDetected(const SourceConfig& source, SourceChanges changes) {
  SourceRecord& record = (*manifest_.mutable_sources())[source.name];
  uint32_t changed = 0;
  for (DetectedDocument& d : changes.documents) {
    if (options_.baseline) d.change = Change::kNew;  // the first run: everything is new, nothing compared
    DocumentRecord& doc = (*manifest_.mutable_documents())[d.document.source_id];
    doc.set_source(d.document.source);
    doc.set_path(d.document.path);
    doc.set_bytes(d.document.bytes);
    doc.set_checksum(d.checksum);
    const bool quarantined = d.change == Change::kUnchanged && !options_.full_refresh &&
                             d.consecutive_failures >= config_.run.quarantine_after;
    if (quarantined) {
      doc.set_status(kDocQuarantined);
    } else if (d.change == Change::kUnchanged && !d.previously_failed) {
      doc.set_status(kDocUnchanged);
    } else {
      doc.set_status(kDocProcessed);
    }
    switch (d.change) {
      case Change::kNew: counts_.set_new_(counts_.new_() + 1); break;
      case Change::kModified: counts_.set_changed(counts_.changed() + 1); break;
      case Change::kUnchanged: counts_.set_unchanged(counts_.unchanged() + 1); break;
    }
    if (d.change != Change::kUnchanged) {
      ++changed;
      if (!options_.baseline) {
        changes_.push_back({source.name, d.document.source_id, d.document.path, ChangeName(d.change), d.checksum,
                            d.previous_checksum});
      }
    }
    StoredDocument stored{d.document.source_id, source.name,  d.document.path,      d.checksum, d.document.bytes,
                          d.mtime_ns,           doc.status(), d.consecutive_failures, d.etag,     d.last_modified};
    stored_updates_[stored.source_id] = std::move(stored);
  }
  for (StoredDocument& gone : changes.deleted) {
    counts_.set_deleted(counts_.deleted() + 1);
    ++changed;
    changes_.push_back({source.name, gone.source_id, gone.path, "deleted", "", gone.checksum});
    gone.last_status = "deleted";
    stored_updates_[gone.source_id] = std::move(gone);
  }
  record.set_status(changed > 0 ? "processed" : "unchanged");
  record.set_documents(static_cast<uint32_t>(changes.documents.size()));
  LogEvent(spdlog::level::info, {.status = "discovered", .count = changes.documents.size()},
           "source " + source.name + ": " + std::to_string(changes.documents.size()) + " documents, " +
               std::to_string(changed) + " new, modified or deleted; " + std::to_string(changes.hashed) +
               " read for their checksum");
}

Result<bool> RunEngine::SourceDue(const SourceConfig& source) {
  // An operator's --manual run, a refresh, a baseline or a named source
  // checks now; scheduled runs follow each source's check_frequency.
  if (options_.manual || options_.full_refresh || options_.baseline || !options_.sources.empty()) return true;
  INGEST_ASSIGN_OR_RETURN(std::optional<StoredSource> stored, store_->Source(config_.env, source.name));
  const std::optional<absl::Time> last = stored ? ParseTimestamp(stored->last_checked_at) : std::nullopt;
  INGEST_ASSIGN_OR_RETURN(absl::TimeZone zone, LoadZone(config_.schedule.timezone));
  Result<bool> due = IsDue(source.check_frequency, last, absl::FromChrono(started_), zone);
  if (!due.ok()) return InvalidArgument("source " + source.name + ": check_frequency: " + due.status().message());
  return *due;
}

void RunEngine::AddNotDue(const SourceConfig& source, const std::map<std::string, StoredDocument>& stored) {
  // Its documents stay as they were last seen; their results carry forward.
  SourceRecord& record = (*manifest_.mutable_sources())[source.name];
  record.set_status("not_due");
  uint32_t kept = 0;
  for (const auto& [id, known] : stored) {
    if (known.last_status != kDocProcessed && known.last_status != kDocUnchanged) continue;
    DocumentRecord& doc = (*manifest_.mutable_documents())[id];
    doc.set_source(source.name);
    doc.set_path(known.path);
    doc.set_bytes(known.size);
    doc.set_checksum(known.checksum);
    doc.set_status(kDocUnchanged);
    counts_.set_unchanged(counts_.unchanged() + 1);
    ++kept;
  }
  record.set_documents(kept);
  LogEvent(spdlog::level::info, {.status = "not_due", .count = kept},
           "source " + source.name + " is not due (check_frequency " + source.check_frequency + "): " +
               std::to_string(kept) + " documents kept as last seen");
}

Status RunEngine::OpenStateStore() {
  INGEST_ASSIGN_OR_RETURN(StateStore store, StateStore::Open(config_.state_db));
  store_.emplace(std::move(store));
  INGEST_ASSIGN_OR_RETURN(lock_, RunLock::Acquire(*store_, config_.env, run_id_));
  return Status::Ok();
}

Status RunEngine::FindPreviousJob() {
  // An explicit rerun recomputes; a full refresh or a baseline takes nothing over.
  if (options_.full_refresh || options_.baseline || !options_.passes.empty() || !options_.resume_from.empty()) {
    return Status::Ok();
  }
  INGEST_ASSIGN_OR_RETURN(std::optional<StoredRun> last, store_->LastSuccessfulRun(config_.env, manifest_.job_id()));
  if (!last || !std::filesystem::exists(std::filesystem::path(last->job_dir) / "journal")) return Status::Ok();
  previous_job_ = last->job_dir;
  manifest_.set_carried_from(last->job_id);
  spdlog::info("unchanged documents are carried forward from job {}", last->job_id);
  Result<Manifest> previous = LoadManifest(previous_job_ / kManifestFileName);
  if (previous.ok()) {
    previous_manifest_ = std::move(*previous);
  } else {
    spdlog::warn("passes cannot be copied whole from job {}: {}", last->job_id, previous.status().message());
  }
  return Status::Ok();
}

std::string RunEngine::PassInputDigest(Pass pass) const {
  Sha256 hash;
  auto field = [&hash](const std::string& text) {
    hash.Update(text);
    hash.Update(std::string_view("\0", 1));
  };
  field("ingestfleet " INGEST_VERSION);
  field(PassLetter(pass));
  const PassesConfig& p = config_.passes;
  field(fmt::format("{} {} {} {}", p.split_threshold_mb, p.split_pages, p.chunk_chars, p.overlap_chars));
  std::map<std::string, std::string> roots;
  for (const SourceConfig& source : config_.sources) roots[source.name] = source.root.string();
  std::vector<std::string> ids;
  for (const auto& [id, doc] : manifest_.documents()) {
    if (doc.status() == kDocProcessed || doc.status() == kDocUnchanged) ids.push_back(id);
  }
  std::sort(ids.begin(), ids.end());
  for (const std::string& id : ids) {
    const DocumentRecord& doc = manifest_.documents().at(id);
    field(id);
    field(doc.source());
    field(roots[doc.source()]);
    field(doc.path());
    field(doc.checksum());
  }
  for (Pass upstream : UpstreamPasses(pass)) {
    const PassRecord& record = PassEntry(manifest_, upstream);
    field(record.artifacts_size() > 0 ? record.artifacts(0).sha256() : "missing");
  }
  return hash.HexDigest();
}

Result<bool> RunEngine::CarryPass(Pass pass, PassRecord& record) {
  if (!previous_manifest_) return false;
  const PassRecord& before = PassEntry(*previous_manifest_, pass);
  // Failures are retried, not copied; an upstream pass that is not SUCCESS
  // here leaves the verdict to the gate.
  if (before.status() != kPassSuccess || before.input_digest() != record.input_digest() ||
      before.metrics().documents_failed() > 0 || before.artifacts_size() != 1) {
    return false;
  }
  for (Pass upstream : UpstreamPasses(pass)) {
    if (PassEntry(manifest_, upstream).status() != kPassSuccess) return false;
  }
  const std::string name = ArtifactFileName(pass);
  ArtifactRecord artifact = before.artifacts(0);
  if (Describe(pass).merge == MergeKind::kCleanup) {
    // Everything but the retention count follows from the inputs.
    CleanupRecord cleanup;
    INGEST_ASSIGN_OR_RETURN(ArtifactScan scan,
                            ScanArtifact(previous_job_ / name, pass, [&cleanup](const google::protobuf::Message& m) {
                              cleanup.CopyFrom(m);
                              return Status::Ok();
                            }));
    if (scan.records != 1) return false;
    INGEST_ASSIGN_OR_RETURN(uint32_t stale, RemoveStaleJobs(job_dir_.parent_path(), job_dir_.filename().string(),
                                                            config_.retention, std::chrono::system_clock::now()));
    cleanup.set_stale_deleted(stale);
    INGEST_ASSIGN_OR_RETURN(ArtifactWriter writer, ArtifactWriter::Open(job_dir_ / name, pass));
    INGEST_RETURN_IF_ERROR(writer.Add(cleanup));
    INGEST_ASSIGN_OR_RETURN(artifact, writer.Commit());
  } else {
    INGEST_ASSIGN_OR_RETURN(std::string sha, CopyFileAtomic(previous_job_ / name, job_dir_ / name));
    if (sha != artifact.sha256()) {
      std::filesystem::remove(job_dir_ / name);
      spdlog::warn("{} of job {} changed since it was recorded; pass {} runs", name, previous_manifest_->job_id(),
                   PassLetter(pass));
      return false;
    }
  }
  // The journal comes along: the next job carries its tasks forward from here.
  const std::filesystem::path journal = "journal/pass" + PassLetter(pass) + ".journal";
  std::error_code ec;
  std::filesystem::create_directories(job_dir_ / "journal", ec);
  if (std::filesystem::exists(previous_job_ / journal, ec)) {
    INGEST_RETURN_IF_ERROR(CopyFileAtomic(previous_job_ / journal, job_dir_ / journal).status());
  }
  *record.add_artifacts() = artifact;
  *record.mutable_metrics() = before.metrics();
  record.mutable_metrics()->set_tasks_executed(0);
  record.mutable_metrics()->set_tasks_retried(0);
  record.mutable_metrics()->set_tasks_requeued(0);
  record.mutable_metrics()->set_tasks_reused(before.metrics().tasks_total());
  record.set_carried_from(previous_manifest_->job_id());
  CopyTotals(pass, previous_manifest_->metrics(), manifest_.mutable_metrics());
  if (Describe(pass).defines_documents) {
    for (auto& [id, doc] : *manifest_.mutable_documents()) {
      if (doc.status() == kDocProcessed || doc.status() == kDocUnchanged) {
        (*manifest_.mutable_source_sha_map())[id] = doc.checksum();
      }
    }
  }
  return true;
}

void RunEngine::RecordState(const RunSummary& summary, bool documents_settled) {
  if (!store_) return;
  const std::string now = FormatTimestamp(std::chrono::system_clock::now());
  std::vector<Status> results;
  // Outcomes per document: failures in a row decide quarantine.
  if (documents_settled) {
    std::vector<StoredDocument> updates;
    // Documents this run did not discover (a resumed run, a source not due)
    // keep what the store has besides the outcome; read once per source.
    std::map<std::string, std::map<std::string, StoredDocument>> known;
    for (const auto& [id, doc] : manifest_.documents()) {
      auto it = stored_updates_.find(id);
      StoredDocument stored = it != stored_updates_.end()
                                  ? it->second
                                  : StoredDocument{id, doc.source(), doc.path(), doc.checksum(), doc.bytes(), 0, "", 0};
      if (it == stored_updates_.end()) {
        if (known.count(doc.source()) == 0) {
          Result<std::map<std::string, StoredDocument>> read = store_->Documents(config_.env, doc.source());
          known[doc.source()] = read.ok() ? std::move(*read) : std::map<std::string, StoredDocument>();
        }
        if (auto k = known[doc.source()].find(id); k != known[doc.source()].end()) stored = k->second;
      }
      stored.last_status = doc.status();
      stored.consecutive_failures = doc.status() == kDocFailed        ? stored.consecutive_failures + 1
                                    : doc.status() == kDocQuarantined ? stored.consecutive_failures
                                                                      : 0;
      updates.push_back(std::move(stored));
    }
    results.push_back(store_->PutDocuments(config_.env, updates, now));
    for (const auto& [name, source] : manifest_.sources()) {
      const bool checked = source.status() != "not_due";
      results.push_back(store_->PutSource(config_.env, name, source.kind(), source.status(), checked,
                                          checked ? FormatTimestamp(started_) : now));
    }
  }
  for (Pass p : passes_) {
    const PassRecord& pass = PassEntry(manifest_, p);
    if (pass.run_id() != run_id_.value) continue;
    const ArtifactRecord artifact = pass.artifacts_size() > 0 ? pass.artifacts(0) : ArtifactRecord();
    results.push_back(store_->RecordPass(run_id_, PassLetter(p), pass.status(), pass.started(), pass.ended(),
                                         pass.metrics().tasks_total(), pass.metrics().tasks_reused(),
                                         artifact.records(), artifact.sha256()));
  }
  StoredRun run{.run_id = run_id_, .env = config_.env, .job_id = manifest_.job_id(),
                .job_dir = job_dir_.string(), .ended_at = now, .status = summary.status(),
                .exit_code = summary.exit_code(), .summary_json = ToJson(summary)};
  results.push_back(store_->RecordRunEnd(run));
  const bool ok = summary.status() == kJobCompleted || summary.status() == kJobPartial;
  results.push_back(store_->RecordAudit(config_.env, run_id_, ok ? "ingestion_completed" : "ingestion_failed",
                                        ToJson(summary), now));
  for (const Status& s : results) {
    if (!s.ok()) LogEvent(spdlog::level::err, {.status = "state_store", .error = s.message()}, s.message());
  }
}

Status RunEngine::SaveManifest() {
  return ingest::SaveManifest(job_dir_ / kManifestFileName, manifest_).WithContext("manifest");
}

Status RunEngine::RunPass(Fleet& fleet, Pass pass) {
  const std::string letter = PassLetter(pass);
  ScopedLogPass log_pass(letter);
  PassRecord& record = PassEntry(manifest_, pass);
  const auto start = std::chrono::steady_clock::now();
  record.set_run_id(run_id_.value);
  record.set_started(FormatTimestamp(std::chrono::system_clock::now()));
  auto fail = [&](const Status& status) {
    record.set_status(kPassFailed);
    record.set_ended(FormatTimestamp(std::chrono::system_clock::now()));
    record.add_errors(status.message());
    record.mutable_metrics()->set_duration_s(SecondsSince(start));
    errors_.push_back("pass " + letter + ": " + status.message());
    LogEvent(spdlog::level::err, {.status = kPassFailed, .error = status.message(), .duration_s = SecondsSince(start)},
             "pass " + letter + " failed: " + status.message());
    pass_failed_ = true;
    (void)SaveManifest();
    return status;
  };

  record.set_input_digest(PassInputDigest(pass));
  Result<bool> carried = CarryPass(pass, record);
  if (!carried.ok()) {
    spdlog::warn("pass {} could not be copied from job {}: {}; it runs", letter, manifest_.carried_from(),
                 carried.status().message());
    record.clear_artifacts();
  } else if (*carried) {
    mirrors_.erase(pass);
    verified_.erase(pass);
    record.set_status(kPassSuccess);
    record.set_ended(FormatTimestamp(std::chrono::system_clock::now()));
    record.mutable_metrics()->set_duration_s(SecondsSince(start));
    tasks_.set_total(tasks_.total() + record.metrics().tasks_total());
    tasks_.set_reused(tasks_.reused() + record.metrics().tasks_reused());
    LogEvent(spdlog::level::info,
             {.status = kPassSuccess, .count = record.artifacts(0).records(), .duration_s = SecondsSince(start)},
             "pass " + letter + " SUCCESS: inputs unchanged, " + record.artifacts(0).path() + " copied from job " +
                 record.carried_from() + " (" + std::to_string(record.artifacts(0).records()) + " records)");
    return SaveManifest();
  }
  Result<std::map<Pass, ArtifactScan>> gate = EvaluateGate(manifest_, pass, job_dir_, &verified_);
  if (!gate.ok()) return fail(gate.status());
  record.set_status(kPassRunning);
  INGEST_RETURN_IF_ERROR(SaveManifest());

  // A mirror is only as good as the artifact it copies: drop those of the
  // passes this one rewrites.
  mirrors_.erase(pass);
  verified_.erase(pass);
  PassExecutor executor(pass, config_, manifest_, job_dir_, std::move(*gate), mirrors_);
  const bool explicit_rerun = !options_.passes.empty() || !options_.resume_from.empty();
  executor.set_reuse({.own_journal = !explicit_rerun,
                      .previous_journal = previous_job_.empty()
                                              ? std::filesystem::path()
                                              : previous_job_ / "journal" / ("pass" + letter + ".journal")});
  Status planned = executor.Plan();
  if (!planned.ok()) return fail(planned);
  Result<PassExecutor::Reused> reused = executor.ReuseCommitted();
  if (!reused.ok()) return fail(reused.status());
  std::string reuse_note;
  if (reused->resumed > 0) reuse_note += ", " + std::to_string(reused->resumed) + " reused from the journal of an interrupted run";
  if (reused->carried > 0) reuse_note += ", " + std::to_string(reused->carried) + " carried forward from " + manifest_.carried_from();
  LogEvent(spdlog::level::info, {.status = kPassRunning, .count = executor.task_count()},
           "pass " + letter + " started: " + std::to_string(executor.task_count()) + " tasks" + reuse_note);
  PassMetrics* metrics = record.mutable_metrics();
  Status executed = fleet.Execute(executor.DispatchOrder(), executor, metrics);
  metrics->set_tasks_total(static_cast<uint32_t>(executor.task_count()));
  metrics->set_tasks_reused(static_cast<uint32_t>(reused->resumed + reused->carried));
  CountTasks(*metrics);
  if (!executed.ok()) return fail(executed);
  const double dispatch_s = SecondsSince(start);

  Result<PassOutcome> outcome = executor.Merge();
  if (!outcome.ok()) return fail(outcome.status().WithContext("pass " + letter + " artifact"));
  *record.add_artifacts() = outcome->artifact;
  verified_[pass] = std::move(outcome->scan);
  mirrors_[pass] = std::move(outcome->mirror);
  metrics->set_documents_failed(outcome->documents_failed);
  metrics->set_duration_s(SecondsSince(start));
  for (const std::string& e : outcome->errors) {
    record.add_errors(e);
    errors_.push_back("pass " + letter + ": " + e);
  }
  CopyTotals(pass, outcome->totals, manifest_.mutable_metrics());
  record.set_status(kPassSuccess);
  record.set_ended(FormatTimestamp(std::chrono::system_clock::now()));
  LogEvent(spdlog::level::info,
           {.status = kPassSuccess, .count = outcome->artifact.records(), .duration_s = metrics->duration_s()},
           "pass " + letter + " SUCCESS: " + outcome->artifact.path() + ", " +
               std::to_string(outcome->artifact.records()) + " records, " +
               std::to_string(outcome->documents_failed) + " documents failed; tasks " +
               fmt::format("{:.2f}", dispatch_s) + " s, merge " + fmt::format("{:.2f}", SecondsSince(start) - dispatch_s) +
               " s");
  return SaveManifest();
}

void RunEngine::CountTasks(const PassMetrics& metrics) {
  tasks_.set_total(tasks_.total() + metrics.tasks_total());
  tasks_.set_reused(tasks_.reused() + metrics.tasks_reused());
  tasks_.set_executed(tasks_.executed() + metrics.tasks_executed());
  tasks_.set_retried(tasks_.retried() + metrics.tasks_retried());
  tasks_.set_requeued(tasks_.requeued() + metrics.tasks_requeued());
}

std::string RunEngine::CpuReport() const {
  // The coordinator is the fleet's one serial part: its CPU per task is the
  // figure that says how far the fleet can scale out.
  rusage usage{};
  ::getrusage(RUSAGE_SELF, &usage);
  const double cpu_s = static_cast<double>(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) +
                       static_cast<double>(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) * 1e-6;
  const uint32_t tasks = tasks_.total();
  return fmt::format("coordinator CPU {:.2f} s, {:.0f} us per task", cpu_s, tasks > 0 ? cpu_s / tasks * 1e6 : 0.0);
}

int RunEngine::DryRun() {
  // Plans without writing anything: no job directory, no manifest, no log,
  // and the state store (if there is one) is only read.
  Result<std::optional<StateStore>> store = StateStore::OpenReadOnly(config_.state_db);
  if (!store.ok()) {
    spdlog::error("{}", store.status().message());
    return kExitFailed;
  }
  std::cout << "dry run: env " << config_.env << ", passes ";
  for (Pass p : passes_) std::cout << PassLetter(p);
  std::cout << (*store ? "" : " (no state store yet: every document is new)") << "\n";
  if (*store) store_.emplace(std::move(**store));  // read-only; no lock is taken
  size_t to_process = 0;
  size_t unchanged = 0;
  for (const SourceConfig& source : config_.sources) {
    if (!options_.sources.empty() &&
        std::find(options_.sources.begin(), options_.sources.end(), source.name) == options_.sources.end()) {
      continue;
    }
    Result<std::vector<DiscoveredDocument>> docs =
        source.kind == "files" ? ingest::DiscoverDocuments(source) : std::vector<DiscoveredDocument>();
    if (!docs.ok()) {
      std::cout << "source " << source.name << ": " << docs.status().message() << "\n";
      continue;
    }
    std::map<std::string, StoredDocument> stored;
    if (store_) {
      Result<std::map<std::string, StoredDocument>> known = store_->Documents(config_.env, source.name);
      Result<bool> due = SourceDue(source);
      if (!known.ok() || !due.ok()) {
        spdlog::error("{}", (known.ok() ? due.status() : known.status()).message());
        return kExitFailed;
      }
      if (!*due) {
        std::cout << "source " << source.name << ": not due (check_frequency " << source.check_frequency
                  << "), kept as last seen\n";
        continue;
      }
      stored = std::move(*known);
    }
    if (source.kind == "http") {
      // Whether a page changed is known only once it is fetched, and a dry
      // run fetches nothing.
      std::cout << "source " << source.name << ": due, " << source.urls.size()
                << " pages to fetch (changes are known after the fetch)\n";
      for (const std::string& url : source.urls) std::cout << "  fetch  " << url << "\n";
      continue;
    }
    SourceChanges changes =
        DetectChanges(source, std::move(*docs), stored, options_.full_refresh || options_.baseline);
    std::cout << "source " << source.name << ": due, " << changes.documents.size() << " documents\n";
    for (const DetectedDocument& d : changes.documents) {
      const bool rerun = options_.full_refresh || options_.baseline || d.change != Change::kUnchanged ||
                         d.previously_failed;
      if (!rerun) {
        ++unchanged;
        continue;
      }
      ++to_process;
      std::cout << "  " << (options_.baseline ? "new" : ChangeName(d.change)) << "  " << d.document.path << "\n";
    }
    for (const StoredDocument& gone : changes.deleted) std::cout << "  deleted  " << gone.path << "\n";
  }
  std::cout << to_process << " documents to process (" << to_process * passes_.size()
            << " document tasks, more where pass B splits), " << unchanged << " unchanged carried forward\n";
  return kExitCompleted;
}

void RunEngine::AddAiSection(FailureReportInput& input) const {
  const char* key = std::getenv("OPENAI_API_KEY");
  if (key == nullptr || *key == '\0') return;
  input.ai_requested = true;
  spdlog::info("asking the AI endpoint (model {}) for a consolidated report", config_.ai_report.model);
  Result<std::string> answer = ConsolidateFailures(config_.ai_report, key, Redact(RenderFailureReport(input)));
  if (answer.ok()) {
    input.ai_text = *answer;
  } else {
    input.ai_error = answer.status().message();
    LogEvent(spdlog::level::warn, {.status = "ai_report", .error = input.ai_error},
             "AI consolidated report not available: " + input.ai_error);
  }
}

void RunEngine::CompressOldLogs() const {
  Result<uint32_t> compressed = CompressStaleLogs(config_.artifact_root / "ingest" / config_.env,
                                                  manifest_.job_id(), config_.retention,
                                                  std::chrono::system_clock::now());
  if (!compressed.ok()) {
    spdlog::warn("retention: {}", compressed.status().message());
  } else if (*compressed > 0) {
    spdlog::info("retention: gzipped the run logs of {} jobs older than {} days", *compressed,
                 config_.retention.compress_after_days);
  }
}

int RunEngine::Finish(const Status& fatal) {
  if (!fatal.ok()) {
    errors_.insert(errors_.begin(), fatal.message());
    spdlog::error("{}", fatal.message());
  }
  uint32_t failed_docs = 0;
  uint32_t unchanged_docs = 0;
  std::vector<std::string> quarantined;
  for (const auto& [id, doc] : manifest_.documents()) {
    if (doc.status() == kDocFailed) ++failed_docs;
    if (doc.status() == kDocUnchanged) ++unchanged_docs;
    if (doc.status() == kDocQuarantined) quarantined.push_back(doc.source() + "/" + doc.path());
  }
  std::sort(quarantined.begin(), quarantined.end());
  const auto documents = static_cast<uint32_t>(manifest_.documents_size());
  const bool over_budget = documents > 0 && static_cast<double>(failed_docs) / documents > config_.run.max_failed_fraction;
  std::vector<std::string> run_errors;  // the run's own, for the failure report
  if (!fatal.ok()) run_errors.push_back(fatal.message());
  if (over_budget) {
    run_errors.push_back(std::to_string(failed_docs) + " of " + std::to_string(documents) +
                         " documents failed, more than run.max_failed_fraction=" +
                         fmt::format("{}", config_.run.max_failed_fraction));
    errors_.insert(errors_.begin(), run_errors.back());
  }
  for (Pass p : passes_) {
    const PassRecord& pass = PassEntry(manifest_, p);
    if (pass.status() == kPassFailed && pass.run_id() == run_id_.value && pass.errors_size() > 0) {
      run_errors.push_back("pass " + PassLetter(p) + ": " + pass.errors(pass.errors_size() - 1));
    }
  }
  for (const auto& [name, source] : manifest_.sources()) {
    if (source.status() == "failed") run_errors.push_back("source " + name + " failed (see the log)");
  }
  bool source_failed = std::any_of(manifest_.sources().begin(), manifest_.sources().end(),
                                   [](const auto& s) { return s.second.status() == "failed"; });
  std::string status = kJobCompleted;
  int exit_code = kExitCompleted;
  if (!fatal.ok() || pass_failed_ || over_budget) {
    status = kJobFailed;
    exit_code = kExitFailed;
  } else if (failed_docs > 0 || source_failed) {
    status = kJobPartial;
    exit_code = kExitPartial;
  }

  Metrics* totals = manifest_.mutable_metrics();
  totals->set_documents(static_cast<uint32_t>(manifest_.documents_size()));
  totals->set_documents_failed(failed_docs);

  RunSummary summary;
  summary.set_run_id(run_id_.value);
  summary.set_job_id(manifest_.job_id());
  summary.set_env(config_.env);
  summary.set_status(status);
  summary.set_exit_code(exit_code);
  summary.set_duration_s(SecondsSince(started_steady_));
  DocumentCounts* docs = summary.mutable_documents();
  *docs = manifest_.changes();
  docs->set_processed(documents - failed_docs - unchanged_docs - static_cast<uint32_t>(quarantined.size()));
  docs->set_unchanged(unchanged_docs);
  docs->set_failed(failed_docs);
  docs->set_quarantined(static_cast<uint32_t>(quarantined.size()));
  for (const std::string& q : quarantined) summary.add_quarantined(q);
  summary.set_pages(totals->pages());
  summary.set_chunks(totals->chunks());
  summary.set_entities(totals->entities());
  summary.mutable_graph()->set_nodes(totals->graph_nodes());
  summary.mutable_graph()->set_edges(totals->graph_edges());
  summary.set_changes_detected(docs->new_() + docs->changed() + docs->deleted());
  *summary.mutable_tasks() = tasks_;
  summary.mutable_errors()->set_count(static_cast<uint32_t>(errors_.size()));
  for (size_t i = 0; i < errors_.size() && i < kSummaryErrors; ++i) summary.mutable_errors()->add_first(errors_[i]);
  summary.set_job_dir(job_dir_.string());

  if (run_record_ != nullptr) {
    run_record_->set_ended(FormatTimestamp(std::chrono::system_clock::now()));
    run_record_->set_status(status);
    run_record_->set_exit_code(exit_code);
    manifest_.set_status(status);
    *manifest_.mutable_summary() = summary;
    Status saved = SaveManifest();
    if (!saved.ok()) {
      spdlog::error("{}", saved.message());
      summary.set_status(kJobFailed);
      summary.set_exit_code(kExitFailed);
      exit_code = kExitFailed;
    }
  }
  std::string report_path;
  if (status != kJobCompleted && run_record_ != nullptr) {
    FailureReportInput input{manifest_, summary, run_errors, config_.file, job_dir_, started_};
    AddAiSection(input);
    Result<std::filesystem::path> report = WriteFailureReport(config_.report_dir, input);
    if (report.ok()) {
      report_path = report->string();
      LogEvent(spdlog::level::warn, {.status = "report"}, "failure report: " + report_path);
    } else {
      LogEvent(spdlog::level::err, {.status = "report", .error = report.status().message()},
               "failure report not written: " + report.status().message());
    }
  }
  RecordState(summary, fatal.ok() && !pass_failed_);
  CompressOldLogs();
  if (notifier_) notifier_->RunFinished({summary, report_path});
  LogEvent(exit_code == kExitCompleted ? spdlog::level::info : spdlog::level::warn,
           {.status = status, .error = fatal.ok() ? "" : fatal.message(), .count = failed_docs,
            .duration_s = summary.duration_s()},
           "run " + run_id_.value + " " + status + " (exit " + std::to_string(exit_code) + "); " + CpuReport());
  run_log_.reset();
  std::cerr << "job directory: " << job_dir_.string() << "\n";
  std::cout << ToJson(summary) << std::endl;
  return exit_code;
}

int RunEngine::Run() {
  Status resolved = ResolvePasses();
  if (!resolved.ok()) {
    spdlog::error("{}", resolved.message());
    return kExitUsage;
  }
  if (options_.dry_run) return DryRun();

  Status opened = OpenStateStore();
  if (!opened.ok()) {
    spdlog::error("{}", opened.message());
    return opened.code() == StatusCode::kAborted ? kExitLocked : kExitFailed;
  }
  notifier_.emplace(config_.notifications);
  notifier_->RunStarted();
  Status prepared = PrepareJob();
  if (!prepared.ok()) {
    spdlog::error("{}", prepared.message());
    RunSummary summary;
    summary.set_run_id(run_id_.value);
    summary.set_env(config_.env);
    summary.set_status(kJobFailed);
    summary.set_exit_code(prepared.code() == StatusCode::kNotFound ? kExitUsage : kExitFailed);
    summary.mutable_errors()->set_count(1);
    summary.mutable_errors()->add_first(prepared.message());
    (void)store_->RecordAudit(config_.env, run_id_, "ingestion_failed", ToJson(summary),
                              FormatTimestamp(std::chrono::system_clock::now()));
    notifier_->RunFinished({summary, ""});
    // A job that cannot be found or opened is a usage problem only when the
    // flags asked for one that does not exist.
    return prepared.code() == StatusCode::kNotFound ? kExitUsage : kExitFailed;
  }
  Result<std::unique_ptr<RunLog>> log =
      RunLog::Attach(job_dir_ / "run.ndjson", {config_.env, manifest_.job_id(), run_id_.value});
  if (!log.ok()) return Finish(log.status().WithContext("run log"));
  run_log_ = std::move(*log);
  LogEvent(spdlog::level::info, {.status = kJobRunning}, "run " + run_id_.value + " started on job " +
                                                             manifest_.job_id() + " (" + job_dir_.string() + ")");
  Status started = store_->RecordRunStart({.run_id = run_id_, .env = config_.env, .job_id = manifest_.job_id(),
                                           .job_dir = job_dir_.string(), .trigger = run_record_->trigger(),
                                           .flags = fmt::format("{}", fmt::join(options_.flags, " ")),
                                           .started_at = run_record_->started(), .status = kJobRunning});
  if (!started.ok()) return Finish(started);
  if (rediscover_) {
    Status discovered = DiscoverDocuments();
    if (!discovered.ok()) return Finish(discovered);
  }
  // Pages of http sources are fetched by the fleet: discovery settles once
  // it is up (RunPasses).
  if (pending_pages_.empty()) {
    Status settled = SettleDiscovery();
    if (!settled.ok()) return Finish(settled);
    if (passes_.empty()) return Finish(Status::Ok());
  }

  if (shared_fleet_ != nullptr) {
    Status fleet = RunPasses(*shared_fleet_);
    if (!fleet.ok()) return Finish(fleet);
  } else {
    Result<std::unique_ptr<Fleet>> fleet = Fleet::Start(config_.fleet, config_.retry,
                                                        {.bind = options_.bind,
                                                         .local_workers = options_.local_workers,
                                                         .local_worker_slots = options_.local_worker_slots,
                                                         .local_keys_dir = job_dir_ / ".work"});
    if (!fleet.ok()) return Finish(fleet.status());
    Status passes = RunPasses(**fleet);
    fleet->reset();
    if (!passes.ok()) return Finish(passes);
  }
  std::error_code ec;
  // Mirrors are only valid within this run; spills of a failed pass go too.
  std::filesystem::remove_all(job_dir_ / ".work", ec);
  return Finish(Status::Ok());
}

Status RunEngine::RunPasses(Fleet& fleet) {
  const FleetCounters before = fleet.counters();
  uint32_t wanted = std::max<uint32_t>(config_.fleet.min_workers, options_.local_workers > 0 ? 1 : 0);
  INGEST_RETURN_IF_ERROR(fleet.WaitForWorkers(wanted, std::chrono::seconds(config_.fleet.wait_for_workers_s)));
  if (!pending_pages_.empty()) {
    INGEST_RETURN_IF_ERROR(FetchPages(fleet));
    INGEST_RETURN_IF_ERROR(SettleDiscovery());
  }
  for (Pass pass : passes_) {
    Status status = RunPass(fleet, pass);
    if (!status.ok()) break;  // the gate of every later pass would stay closed
  }
  const FleetCounters after = fleet.counters();
  if (const uint64_t dropped = after.dropped_frames - before.dropped_frames; dropped > 0) {
    LogEvent(spdlog::level::warn, {.status = "dropped_frames", .count = dropped},
             "fleet: dropped " + std::to_string(dropped) +
                 " frames that did not parse, came from unknown peers or spoke another protocol version");
  }
  if (const uint64_t refused = after.refused_handshakes - before.refused_handshakes; refused > 0) {
    LogEvent(spdlog::level::warn, {.status = "refused_workers", .count = refused},
             "fleet: refused " + std::to_string(refused) + " CURVE handshakes of workers whose key is not authorized");
  }
  return Status::Ok();
}

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
  RunEngine engine(options, std::move(*config));
  return engine.Run();
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
  Result<std::unique_ptr<RunLock>> lock = RunLock::Acquire(*store, config->env, RunId{fmt::format("retention_{}", ::getpid())});
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
            << config->retention.compress_after_days << " days), " << *deleted << " job directories deleted (older than "
            << config->retention.delete_after_days << " days, keeping the last " << config->retention.keep_last_jobs
            << " completed)\n";
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
