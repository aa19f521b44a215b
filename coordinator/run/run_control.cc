#include "coordinator/run/run_control.h"

#include <csignal>

#include "common/manifest.h"
#include "common/pass.h"
#include "common/signals.h"
#include "coordinator/coordinator.h"

namespace ingest {
namespace {

constexpr auto kProgressEvery = std::chrono::milliseconds(500);

const char* SignalName(int signal) {
  switch (signal) {
    case SIGINT:
      return "SIGINT";
    case SIGTERM:
      return "SIGTERM";
    default:
      return "a signal";
  }
}

}  // namespace

RunControl::RunControl(admin::Run run, bool signals_cancel) : signals_cancel_(signals_cancel), run_(std::move(run)) {
  run_.set_state(admin::RUN_STATE_QUEUED);
  run_.set_exit_code(-1);
}

void RunControl::Publish(admin::RunEvent event) {
  *event.mutable_time() = TimestampOf(std::chrono::system_clock::now());
  events_.push_back(std::move(event));
  if (events_.size() > kKeptEvents) {
    events_.pop_front();
    ++first_seq_;
  }
  changed_.notify_all();
}

admin::PassStatus* RunControl::PassOf(Pass pass) {
  for (admin::PassStatus& p : *run_.mutable_passes()) {
    if (p.pass() == PassLetter(pass)) return &p;
  }
  admin::PassStatus* p = run_.add_passes();
  p->set_pass(PassLetter(pass));
  return p;
}

void RunControl::Started(const std::string& job_id, const std::filesystem::path& job_dir,
                         const std::vector<Pass>& passes, WallTime started) {
  std::lock_guard<std::mutex> lock(mu_);
  run_.set_job_id(job_id);
  run_.set_job_dir(job_dir.string());
  run_.set_state(admin::RUN_STATE_RUNNING);
  *run_.mutable_start_time() = TimestampOf(started);
  run_.clear_passes();
  for (Pass p : passes) PassOf(p)->set_status(kPassPending);
  admin::RunEvent event;
  *event.mutable_snapshot() = run_;
  Publish(std::move(event));
}

void RunControl::PassStarted(Pass pass, uint32_t tasks_total, uint32_t tasks_reused) {
  std::lock_guard<std::mutex> lock(mu_);
  admin::PassStatus* p = PassOf(pass);
  p->set_status(kPassRunning);
  p->set_tasks_total(tasks_total);
  p->set_tasks_reused(tasks_reused);
  p->set_tasks_done(tasks_reused);
  *p->mutable_start_time() = TimestampOf(std::chrono::system_clock::now());
  admin::RunEvent event;
  admin::PassStarted* started = event.mutable_pass_started();
  started->set_pass(PassLetter(pass));
  started->set_tasks_total(tasks_total);
  started->set_tasks_reused(tasks_reused);
  Publish(std::move(event));
}

void RunControl::Progress(Pass pass, uint32_t tasks_done, uint32_t tasks_total, uint32_t documents_failed,
                          uint32_t workers) {
  const auto now = std::chrono::steady_clock::now();
  std::lock_guard<std::mutex> lock(mu_);
  admin::PassStatus* p = PassOf(pass);
  p->set_tasks_done(tasks_done);
  p->set_tasks_total(tasks_total);
  p->set_documents_failed(documents_failed);
  auto [last, first] = last_progress_.try_emplace(pass, now);
  if (!first && now - last->second < kProgressEvery) return;
  last->second = now;
  admin::RunEvent event;
  admin::PassProgress* progress = event.mutable_progress();
  progress->set_pass(PassLetter(pass));
  progress->set_tasks_done(tasks_done);
  progress->set_tasks_total(tasks_total);
  progress->set_documents_failed(documents_failed);
  progress->set_workers(workers);
  Publish(std::move(event));
}

void RunControl::PassEnded(Pass pass, const PassRecord& record, const std::string& error) {
  std::lock_guard<std::mutex> lock(mu_);
  admin::PassStatus* p = PassOf(pass);
  const admin::PassStatus ended = PassStatusOf(pass, record);
  // The manifest does not count the tasks done of a pass that stopped early.
  const uint32_t done = ended.status() == kPassSuccess ? ended.tasks_done() : p->tasks_done();
  *p = ended;
  p->set_tasks_done(done);
  admin::RunEvent event;
  *event.mutable_pass_ended()->mutable_pass() = *p;
  event.mutable_pass_ended()->set_error(error);
  Publish(std::move(event));
}

void RunControl::Ended(const RunSummary& summary, const std::string& report_path, int exit_code) {
  std::lock_guard<std::mutex> lock(mu_);
  run_.set_state(RunStateOf(summary.status()));
  *run_.mutable_summary() = summary;
  if (!summary.job_id().empty()) run_.set_job_id(summary.job_id());
  *run_.mutable_end_time() = TimestampOf(std::chrono::system_clock::now());
  run_.set_report_path(report_path);
  run_.set_exit_code(exit_code);
  run_.set_cancel_reason(cancel_reason_);
  admin::RunEvent event;
  *event.mutable_run_ended() = run_;
  Publish(std::move(event));
}

bool RunControl::RequestCancel(const std::string& reason) {
  std::lock_guard<std::mutex> lock(mu_);
  if (run_.exit_code() >= 0) return false;
  if (!cancel_) cancel_reason_ = "CancelRun" + (reason.empty() ? std::string() : ": " + reason);
  cancel_ = true;
  return true;
}

bool RunControl::cancel_requested() const { return cancel_ || (signals_cancel_ && CaughtStopSignal() != 0); }

std::string RunControl::cancel_reason() const {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (cancel_) return cancel_reason_;
  }
  const int signal = signals_cancel_ ? CaughtStopSignal() : 0;
  return signal != 0 ? SignalName(signal) : "";
}

int RunControl::cancel_exit_code() const {
  if (cancel_) return kExitCancelled;
  const int signal = signals_cancel_ ? CaughtStopSignal() : 0;
  return signal != 0 ? kExitSignalBase + signal : kExitCancelled;
}

bool RunControl::ended() const {
  std::lock_guard<std::mutex> lock(mu_);
  return run_.exit_code() >= 0;
}

admin::Run RunControl::Snapshot() const {
  std::lock_guard<std::mutex> lock(mu_);
  return run_;
}

RunControl::Watch RunControl::StartWatch() const {
  std::lock_guard<std::mutex> lock(mu_);
  return {run_, first_seq_ + events_.size()};
}

std::vector<admin::RunEvent> RunControl::Next(uint64_t* cursor, std::chrono::milliseconds timeout) const {
  std::unique_lock<std::mutex> lock(mu_);
  auto available = [&] { return *cursor < first_seq_ + events_.size(); };
  if (!available() && run_.exit_code() < 0) changed_.wait_for(lock, timeout, available);
  std::vector<admin::RunEvent> out;
  if (*cursor < first_seq_) {
    admin::RunEvent snapshot;
    *snapshot.mutable_snapshot() = run_;
    *snapshot.mutable_time() = TimestampOf(std::chrono::system_clock::now());
    out.push_back(std::move(snapshot));
    *cursor = first_seq_ + events_.size();
    if (run_.exit_code() >= 0) {
      admin::RunEvent ended;
      *ended.mutable_run_ended() = run_;
      out.push_back(std::move(ended));
    }
    return out;
  }
  for (uint64_t seq = *cursor; seq < first_seq_ + events_.size(); ++seq) out.push_back(events_[seq - first_seq_]);
  *cursor = first_seq_ + events_.size();
  return out;
}

}  // namespace ingest
