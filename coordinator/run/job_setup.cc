#include "coordinator/run/job_setup.h"

#include <fmt/ranges.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>
#include <thread>

#include "common/manifest.h"
#include "common/pass.h"
#include "common/proto_json.h"
#include "coordinator/run/run_view.h"

namespace ingest {
namespace {

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

Status JobSetup::ResolvePasses() {
  const RunOptions& options = ctx_.options;
  if (!options.passes.empty() && !options.resume_from.empty()) {
    return InvalidArgument("--passes and --resume-from cannot be combined");
  }
  if (!options.passes.empty()) {
    INGEST_ASSIGN_OR_RETURN(ctx_.passes, ParsePassList(options.passes));
    return Status::Ok();
  }
  Pass first = Pass::PASS_A;
  if (!options.resume_from.empty()) {
    INGEST_ASSIGN_OR_RETURN(first, ParsePass(options.resume_from));
  }
  for (Pass p : kAllPasses) {
    if (p >= first) ctx_.passes.push_back(p);
  }
  return Status::Ok();
}

Status JobSetup::Lock() {
  INGEST_ASSIGN_OR_RETURN(StateStore store, StateStore::Open(ctx_.config.state_db));
  ctx_.store.emplace(std::move(store));
  INGEST_ASSIGN_OR_RETURN(ctx_.lock,
                          RunLock::Acquire(*ctx_.store, ctx_.config.env, ctx_.run_id, ctx_.options.scheduled_for));
  return Status::Ok();
}

Result<std::filesystem::path> JobSetup::ChooseJobDir() const {
  namespace fs = std::filesystem;
  const RunOptions& options = ctx_.options;
  if (!options.job_dir.empty()) return fs::absolute(options.job_dir).lexically_normal();
  if (!options.resume_from.empty() || options.resume) {
    INGEST_ASSIGN_OR_RETURN(fs::path latest, LatestJob(ctx_.env_dir()));
    spdlog::info("resuming the latest job {}", latest.string());
    return latest;
  }
  // Job ids have one-second resolution: wait out a collision with a job
  // started in the same second rather than share its directory.
  for (int waited_ms = 0;; waited_ms += 250) {
    fs::path dir = ctx_.env_dir() / MakeJobId(std::chrono::system_clock::now()).value;
    if (!fs::exists(dir)) return dir;
    if (waited_ms >= 2000) return FailedPrecondition(dir.string() + " exists and is not this run's");
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
  }
}

Status JobSetup::OpenJob() {
  namespace fs = std::filesystem;
  const RunOptions& options = ctx_.options;
  INGEST_ASSIGN_OR_RETURN(ctx_.job_dir, ChooseJobDir());
  const fs::path& job_dir = ctx_.job_dir;
  std::error_code ec;
  fs::create_directories(job_dir, ec);
  if (ec) return ErrnoStatus(ec.value(), "job directory " + job_dir.string());
  if (::access(job_dir.c_str(), W_OK) != 0) return ErrnoStatus(errno, "job directory " + job_dir.string());

  // A killed run can leave the temp file of an artifact or manifest it was
  // writing: half-written, never trusted.
  for (const auto& entry : fs::directory_iterator(job_dir, ec)) {
    const std::string name = entry.path().filename().string();
    if (entry.is_regular_file() && name.find(".tmp.") != std::string::npos) {
      spdlog::warn("removing {}, left half-written by an interrupted run", entry.path().string());
      fs::remove(entry.path(), ec);
    }
  }
  Manifest& manifest = ctx_.manifest;
  const fs::path manifest_path = job_dir / kManifestFileName;
  if (fs::exists(manifest_path)) {
    INGEST_ASSIGN_OR_RETURN(manifest, LoadManifest(manifest_path));
    if (manifest.env() != ctx_.config.env) {
      return FailedPrecondition("job " + job_dir.string() + " belongs to env '" + manifest.env() + "', not '" +
                                ctx_.config.env + "'");
    }
  } else {
    // A run killed before it first wrote the manifest recorded nothing in
    // the job: --resume starts it over; a pass to resume from is not there.
    if (!options.resume_from.empty()) return NotFound(manifest_path.string() + ": nothing to resume");
    if (options.resume) {
      spdlog::warn("job {} has no manifest (its first run ended before writing one): starting it from pass A",
                   job_dir.string());
    }
    manifest = NewManifest(job_dir.filename().string(), ctx_.config.env);
  }

  std::vector<Pass>& passes = ctx_.passes;
  if (options.resume) {
    // Continue from the first pass that is not SUCCESS.
    passes.clear();
    for (Pass p : kAllPasses) {
      if (!passes.empty() || PassEntry(manifest, p).status() != kPassSuccess) passes.push_back(p);
    }
    if (passes.empty()) spdlog::info("job {} has every pass SUCCESS; nothing to resume", manifest.job_id());
  }
  ctx_.rediscover = manifest.documents().empty() || (!passes.empty() && Describe(passes.front()).defines_documents);

  RunRecord* run = manifest.add_runs();
  ctx_.run_record = run;
  run->set_run_id(ctx_.run_id.value);
  run->set_trigger(TriggerName(options));
  for (const std::string& f : options.flags) run->add_flags(f);
  run->set_started(FormatTimestamp(ctx_.started));
  run->set_status(kJobRunning);
  manifest.set_status(kJobRunning);
  for (Pass p : passes) {
    ResetPass(&PassEntry(manifest, p));
    // Documents that failed in a pass being rerun get another chance.
    for (auto& [id, doc] : *manifest.mutable_documents()) {
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

Status JobSetup::StartLog() {
  const Manifest& manifest = ctx_.manifest;
  const std::filesystem::path path =
      ctx_.options.log_file.empty() ? ctx_.job_dir / "run.ndjson" : std::filesystem::path(ctx_.options.log_file);
  Result<std::unique_ptr<RunLog>> log = RunLog::Attach(path, {ctx_.config.env, manifest.job_id(), ctx_.run_id.value});
  if (!log.ok()) return log.status().WithContext("run log");
  ctx_.log = std::move(*log);
  ctx_.log_path = path;
  LogEvent(spdlog::level::info, {.status = kJobRunning},
           "run " + ctx_.run_id.value + " started on job " + manifest.job_id() + " (" + ctx_.job_dir.string() + ")");
  spdlog::debug("run {}: config {} (env {}, {} sources, artifact_root {}, state_db {}), flags: {}", ctx_.run_id.value,
                ctx_.config.file.string(), ctx_.config.env, ctx_.config.sources.size(),
                ctx_.config.artifact_root.string(), ctx_.config.state_db.string(),
                fmt::format("{}", fmt::join(ctx_.options.flags, " ")));
  Status recorded = ctx_.store->RecordRunStart({.run_id = ctx_.run_id,
                                                .env = ctx_.config.env,
                                                .job_id = manifest.job_id(),
                                                .job_dir = ctx_.job_dir.string(),
                                                .trigger = ctx_.run_record->trigger(),
                                                .flags = fmt::format("{}", fmt::join(ctx_.options.flags, " ")),
                                                .started_at = ctx_.run_record->started(),
                                                .status = kJobRunning,
                                                .request_id = ctx_.options.request_id,
                                                .options_json = ToJson(FlagsOf(ctx_.options)),
                                                .scheduled_for = ctx_.options.scheduled_for});
  // RUNNING once the store knows it, so a listing never misses it.
  if (recorded.ok()) ctx_.control->Started(manifest.job_id(), ctx_.job_dir, ctx_.passes, ctx_.started);
  return recorded;
}

}  // namespace ingest
