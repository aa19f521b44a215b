#include "coordinator/admin/run_registry.h"

#include <signal.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>
#include <set>
#include <sstream>
#include <thread>

#include "common/atomic_file.h"
#include "common/manifest.h"
#include "common/proto_json.h"
#include "coordinator/run/run_engine.h"
#include "coordinator/run/run_view.h"
#include "coordinator/state/run_lock.h"

namespace ingest {
namespace {

constexpr int kDefaultPageSize = 50;
constexpr int kMaxPageSize = 1000;
constexpr int kMaxLogLines = 10000;
// Ended runs of this process kept live (with their events) for watchers.
constexpr size_t kKeptLiveRuns = 16;

const char* StatusWord(admin::RunState state) {
  switch (state) {
    case admin::RUN_STATE_RUNNING:
      return kJobRunning;
    case admin::RUN_STATE_COMPLETED:
      return kJobCompleted;
    case admin::RUN_STATE_PARTIAL:
      return kJobPartial;
    case admin::RUN_STATE_FAILED:
      return kJobFailed;
    case admin::RUN_STATE_CANCELLED:
      return kJobCancelled;
    default:
      return "";
  }
}

// Page tokens are opaque to clients: the last run of the page, hex-encoded.
std::string EncodeCursor(const StoredRun& last) {
  static constexpr char kHex[] = "0123456789abcdef";
  const std::string plain = last.started_at + '\n' + last.run_id.value;
  std::string out;
  for (unsigned char c : plain) {
    out += kHex[c >> 4];
    out += kHex[c & 15];
  }
  return out;
}

Result<RunCursor> DecodeCursor(const std::string& token) {
  auto bad = [] { return InvalidArgument("page_token is not one ListRuns returned"); };
  if (token.size() % 2 != 0) return bad();
  std::string plain;
  for (size_t i = 0; i < token.size(); i += 2) {
    auto nibble = [](char c) { return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1; };
    const int hi = nibble(token[i]);
    const int lo = nibble(token[i + 1]);
    if (hi < 0 || lo < 0) return bad();
    plain += static_cast<char>(hi * 16 + lo);
  }
  const size_t newline = plain.find('\n');
  if (newline == std::string::npos) return bad();
  return RunCursor{.started_at = plain.substr(0, newline), .run_id = RunId{plain.substr(newline + 1)}};
}

}  // namespace

RunRegistry::RunRegistry(Config config, bool starts_runs, const FleetView* workers)
    : config_(std::move(config)), starts_runs_(starts_runs), workers_(workers) {}

Status RunRegistry::OpenStore() {
  if (store_) return Status::Ok();
  INGEST_ASSIGN_OR_RETURN(StateStore store, StateStore::Open(config_.state_db));
  store_.emplace(std::move(store));
  return Status::Ok();
}

RunId RunRegistry::NewRunId() {
  while (true) {
    RunId id = MakeRunId(std::chrono::system_clock::now(), ::getpid());
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (id != last_run_id_) {
        last_run_id_ = id;
        return id;
      }
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

std::shared_ptr<RunControl> RunRegistry::NewRun(RunOptions* options, bool signals_cancel) {
  const RunId id = NewRunId();
  options->run_id = id.value;
  std::shared_ptr<RunControl> control = NewRunControl(*options, config_.env, id, signals_cancel);
  std::lock_guard<std::mutex> lock(mu_);
  live_[id] = control;
  // Run ids sort by time: drop the oldest ended runs beyond what is kept.
  for (auto it = live_.begin(); live_.size() > kKeptLiveRuns && it != live_.end();) {
    it = it->second->ended() ? live_.erase(it) : std::next(it);
  }
  return control;
}

Status RunRegistry::Busy() {
  if (queued_) return FailedPrecondition("run " + queued_->options.run_id + " is queued to start");
  for (const auto& [id, control] : live_) {
    if (!control->ended()) return FailedPrecondition("run " + id.value + " of env '" + config_.env + "' is running");
  }
  INGEST_RETURN_IF_ERROR(OpenStore());
  INGEST_ASSIGN_OR_RETURN(std::optional<LockHolder> holder, store_->Lock(config_.env, kRunLockStaleAfter));
  if (holder && holder->alive()) {
    return FailedPrecondition("env '" + config_.env + "' is locked by " + holder->Describe());
  }
  return Status::Ok();
}

Result<admin::Run> RunRegistry::Enqueue(RunOptions options, bool* locked) {
  *locked = false;
  if (!starts_runs_) {
    return FailedPrecondition(
        "this is an `ingest-coordinator run` serving its own run; use `ingest-coordinator "
        "serve` to start runs through the API");
  }
  if (options.request_id.size() > 128) return InvalidArgument("request_id is longer than 128 characters");
  if (!options.request_id.empty()) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      for (const auto& [id, control] : live_) {
        admin::Run run = control->Snapshot();
        if (run.request_id() == options.request_id) return run;
      }
    }
    std::lock_guard<std::mutex> lock(store_mu_);
    INGEST_RETURN_IF_ERROR(OpenStore());
    INGEST_ASSIGN_OR_RETURN(std::optional<StoredRun> earlier,
                            store_->RunWithRequestId(config_.env, options.request_id));
    if (earlier) {
      INGEST_ASSIGN_OR_RETURN(std::vector<StoredPass> passes, store_->Passes(earlier->run_id));
      return ViewOf(*earlier, passes);
    }
  }
  const RunId id = NewRunId();
  std::scoped_lock lock(mu_, store_mu_);
  if (Status busy = Busy(); !busy.ok()) {
    *locked = true;
    return busy;
  }
  options.run_id = id.value;
  std::shared_ptr<RunControl> control = NewRunControl(options, config_.env, id, true);
  queued_ = Queued{std::move(options), control};
  live_[id] = control;
  spdlog::info("admin: run {} queued", id.value);
  return control->Snapshot();
}

std::optional<RunRegistry::Queued> RunRegistry::TakeQueued() {
  std::lock_guard<std::mutex> lock(mu_);
  std::optional<Queued> next = std::move(queued_);
  queued_.reset();
  return next;
}

bool RunRegistry::has_queued() const {
  std::lock_guard<std::mutex> lock(mu_);
  return queued_.has_value();
}

std::shared_ptr<RunControl> RunRegistry::Live(const RunId& run_id) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = live_.find(run_id);
  return it == live_.end() ? nullptr : it->second;
}

admin::Run RunRegistry::ViewOf(const StoredRun& stored, const std::vector<StoredPass>& passes) {
  admin::Run run = RunOf(stored, passes);
  if (run.state() == admin::RUN_STATE_RUNNING) {
    // Marked running, but whoever runs it must hold the lock: a run whose
    // process died without ending it failed.
    Result<std::optional<LockHolder>> holder = store_->Lock(config_.env, kRunLockStaleAfter);
    const bool held = holder.ok() && *holder && (*holder)->run_id == stored.run_id && (*holder)->alive();
    if (!held) run.set_state(admin::RUN_STATE_FAILED);
  }
  return run;
}

Result<admin::Run> RunRegistry::StoredView(const RunId& run_id) {
  INGEST_RETURN_IF_ERROR(OpenStore());
  INGEST_ASSIGN_OR_RETURN(StoredRun stored, store_->Run(run_id));
  INGEST_ASSIGN_OR_RETURN(std::vector<StoredPass> passes, store_->Passes(run_id));
  return ViewOf(stored, passes);
}

Result<admin::Run> RunRegistry::Get(const RunId& run_id) {
  if (run_id.empty()) return InvalidArgument("run_id is empty");
  if (std::shared_ptr<RunControl> live = Live(run_id)) return live->Snapshot();
  std::lock_guard<std::mutex> lock(store_mu_);
  return StoredView(run_id);
}

Result<admin::ListRunsResponse> RunRegistry::List(const admin::ListRunsRequest& request) {
  if (request.page_size() < 0) return InvalidArgument("page_size must not be negative");
  const int size = request.page_size() == 0 ? kDefaultPageSize : std::min(request.page_size(), kMaxPageSize);
  std::optional<RunCursor> cursor;
  if (!request.page_token().empty()) {
    INGEST_ASSIGN_OR_RETURN(cursor, DecodeCursor(request.page_token()));
  }
  admin::ListRunsResponse response;
  std::set<std::string> listed;
  const bool wants_queued =
      request.state() == admin::RUN_STATE_UNSPECIFIED || request.state() == admin::RUN_STATE_QUEUED;
  if (!cursor && wants_queued) {
    // Runs of this process the store has not heard of yet, newest first.
    std::lock_guard<std::mutex> lock(mu_);
    for (auto it = live_.rbegin(); it != live_.rend(); ++it) {
      admin::Run run = it->second->Snapshot();
      if (run.state() != admin::RUN_STATE_QUEUED || run.exit_code() >= 0) continue;
      listed.insert(run.run_id());
      *response.add_runs() = std::move(run);
    }
  }
  if (request.state() == admin::RUN_STATE_QUEUED) return response;
  std::lock_guard<std::mutex> lock(store_mu_);
  INGEST_RETURN_IF_ERROR(OpenStore());
  INGEST_ASSIGN_OR_RETURN(std::vector<StoredRun> rows,
                          store_->Runs(config_.env, StatusWord(request.state()), cursor, size + 1));
  const bool more = static_cast<int>(rows.size()) > size;
  if (more) rows.resize(size);
  std::vector<RunId> ids;
  ids.reserve(rows.size());
  for (const StoredRun& row : rows) ids.push_back(row.run_id);
  INGEST_ASSIGN_OR_RETURN(auto passes, store_->Passes(ids));
  for (const StoredRun& row : rows) {
    if (listed.count(row.run_id.value) > 0) continue;
    std::shared_ptr<RunControl> live = Live(row.run_id);
    *response.add_runs() = live ? live->Snapshot() : ViewOf(row, passes[row.run_id]);
  }
  if (more) response.set_next_page_token(EncodeCursor(rows.back()));
  return response;
}

Result<admin::Run> RunRegistry::Cancel(const RunId& run_id, const std::string& reason) {
  if (run_id.empty()) return InvalidArgument("run_id is empty");
  if (std::shared_ptr<RunControl> live = Live(run_id)) {
    if (!live->RequestCancel(reason)) return FailedPrecondition("run " + run_id.value + " has already ended");
    spdlog::warn("admin: run {} cancelled{}", run_id.value, reason.empty() ? "" : ": " + reason);
    return live->Snapshot();
  }
  std::lock_guard<std::mutex> lock(store_mu_);
  INGEST_ASSIGN_OR_RETURN(admin::Run run, StoredView(run_id));
  if (run.state() != admin::RUN_STATE_RUNNING) {
    return FailedPrecondition("run " + run_id.value + " is not running (" + admin::RunState_Name(run.state()) + ")");
  }
  INGEST_ASSIGN_OR_RETURN(std::optional<LockHolder> holder, store_->Lock(config_.env, kRunLockStaleAfter));
  if (!holder || !holder->same_host) {
    return FailedPrecondition("run " + run_id.value + " runs in another process on " +
                              (holder ? holder->host : std::string("another host")) + "; cancel it there");
  }
  // Another process of this host (a CronJob's run beside serve): asked the
  // way Kubernetes asks, and it cancels itself.
  if (::kill(static_cast<pid_t>(holder->pid), SIGTERM) != 0) {
    return ErrnoStatus(errno, "SIGTERM to the process of run " + run_id.value);
  }
  spdlog::warn("admin: sent SIGTERM to pid {} to cancel run {}", holder->pid, run_id.value);
  run.set_cancel_reason("CancelRun: SIGTERM to pid " + std::to_string(holder->pid));
  return run;
}

Result<admin::Run> RunRegistry::Resume(const RunId& run_id, const std::string& request_id, bool* locked) {
  *locked = false;
  INGEST_ASSIGN_OR_RETURN(admin::Run run, Get(run_id));
  switch (run.state()) {
    case admin::RUN_STATE_QUEUED:
    case admin::RUN_STATE_RUNNING:
      return FailedPrecondition("run " + run_id.value + " has not ended");
    case admin::RUN_STATE_COMPLETED:
      return FailedPrecondition("run " + run_id.value + " completed: there is nothing to resume");
    default:
      break;
  }
  if (run.job_dir().empty()) return FailedPrecondition("run " + run_id.value + " ended before it had a job");
  // The job goes on as it was started: a resumed --full-refresh run must not
  // carry unchanged documents forward from the previous job.
  admin::RunFlags flags = run.flags();
  flags.clear_resume_from();
  flags.set_dry_run(false);
  flags.set_resume(true);
  flags.set_job_dir(run.job_dir());
  RunOptions options = OptionsOf(flags, config_.file.string());
  options.request_id = request_id;
  return Enqueue(std::move(options), locked);
}

Result<admin::Report> RunRegistry::Report(const RunId& run_id) {
  INGEST_ASSIGN_OR_RETURN(admin::Run run, Get(run_id));
  if (run.report_path().empty()) {
    return NotFound("run " + run_id.value + " wrote no failure report (" + admin::RunState_Name(run.state()) + ")");
  }
  INGEST_ASSIGN_OR_RETURN(std::string markdown, ReadFile(run.report_path()));
  admin::Report report;
  report.set_run_id(run_id.value);
  report.set_path(run.report_path());
  report.set_markdown(std::move(markdown));
  return report;
}

Result<admin::GetRunLogResponse> RunRegistry::Log(const RunId& run_id, int max_lines) {
  if (max_lines < 0) return InvalidArgument("max_lines must not be negative");
  INGEST_ASSIGN_OR_RETURN(admin::Run run, Get(run_id));
  if (run.job_dir().empty()) return NotFound("run " + run_id.value + " has no job, so no log");
  const std::filesystem::path path = std::filesystem::path(run.job_dir()) / "run.ndjson";
  std::error_code ec;
  if (!std::filesystem::exists(path, ec) && std::filesystem::exists(path.string() + ".gz", ec)) {
    return FailedPrecondition("the log of job " + run.job_id() + " was gzipped by retention: " + path.string() + ".gz");
  }
  INGEST_ASSIGN_OR_RETURN(std::string text, ReadFile(path));
  const int keep = max_lines == 0 ? kMaxLogLines : std::min(max_lines, kMaxLogLines);
  std::vector<std::string> lines;
  std::istringstream in(text);
  LogLine parsed;
  for (std::string line; std::getline(in, line);) {
    parsed.Clear();
    if (FromJson(line, &parsed).ok() && parsed.run_id() == run_id.value) lines.push_back(std::move(line));
  }
  admin::GetRunLogResponse response;
  const size_t from = lines.size() > static_cast<size_t>(keep) ? lines.size() - keep : 0;
  for (size_t i = from; i < lines.size(); ++i) response.add_lines(std::move(lines[i]));
  return response;
}

admin::ListWorkersResponse RunRegistry::Workers() const {
  admin::ListWorkersResponse response;
  if (workers_ == nullptr) return response;
  for (const WorkerInfo& w : workers_->Workers()) {
    admin::Worker* worker = response.add_workers();
    worker->set_worker_id(w.id.value);
    worker->set_peer_address(w.peer_address);
    worker->set_version(w.version);
    worker->set_slots(w.slots);
    worker->set_tasks_in_flight(w.tasks_in_flight);
    worker->set_tasks_done(w.tasks_done);
    *worker->mutable_last_heartbeat() = TimestampOf(w.last_heard);
    worker->set_draining(w.draining);
  }
  return response;
}

}  // namespace ingest
