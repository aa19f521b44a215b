#include "coordinator/run/run_view.h"

#include <map>

#include "common/cron.h"
#include "common/manifest.h"
#include "common/pass.h"
#include "common/proto_json.h"

namespace ingest {

admin::RunState RunStateOf(const std::string& status) {
  static const std::map<std::string, admin::RunState> kStates = {
      {kJobPending, admin::RUN_STATE_QUEUED},      {kJobRunning, admin::RUN_STATE_RUNNING},
      {kJobCompleted, admin::RUN_STATE_COMPLETED}, {kJobPartial, admin::RUN_STATE_PARTIAL},
      {kJobFailed, admin::RUN_STATE_FAILED},       {kJobCancelled, admin::RUN_STATE_CANCELLED},
  };
  auto it = kStates.find(status);
  return it == kStates.end() ? admin::RUN_STATE_UNSPECIFIED : it->second;
}

admin::Trigger TriggerOf(const std::string& trigger) {
  if (trigger == "schedule") return admin::TRIGGER_SCHEDULE;
  if (trigger == "manual") return admin::TRIGGER_MANUAL;
  if (trigger == "api") return admin::TRIGGER_API;
  return admin::TRIGGER_UNSPECIFIED;
}

std::string TriggerName(const RunOptions& options) {
  if (!options.trigger.empty()) return options.trigger;
  return options.manual ? "manual" : "schedule";
}

google::protobuf::Timestamp TimestampOf(const std::string& rfc3339) {
  google::protobuf::Timestamp t;
  if (std::optional<absl::Time> parsed = ParseTimestamp(rfc3339)) {
    const absl::Duration since = *parsed - absl::UnixEpoch();
    t.set_seconds(absl::ToInt64Seconds(since));
    t.set_nanos(static_cast<int32_t>(absl::ToInt64Nanoseconds(since - absl::Seconds(t.seconds()))));
  }
  return t;
}

google::protobuf::Timestamp TimestampOf(WallTime time) { return TimestampOf(FormatTimestamp(time)); }

admin::RunFlags FlagsOf(const RunOptions& options) {
  admin::RunFlags flags;
  flags.set_passes(options.passes);
  flags.set_resume_from(options.resume_from);
  flags.set_full_refresh(options.full_refresh);
  flags.set_baseline(options.baseline);
  for (const std::string& s : options.sources) flags.add_sources(s);
  flags.set_dry_run(options.dry_run);
  flags.set_resume(options.resume);
  flags.set_job_dir(options.job_dir);
  return flags;
}

RunOptions OptionsOf(const admin::RunFlags& flags, const std::string& config_file) {
  RunOptions options;
  options.config_file = config_file;
  options.passes = flags.passes();
  options.resume_from = flags.resume_from();
  options.full_refresh = flags.full_refresh();
  options.baseline = flags.baseline();
  options.sources.assign(flags.sources().begin(), flags.sources().end());
  options.dry_run = flags.dry_run();
  options.resume = flags.resume();
  options.job_dir = flags.job_dir();
  // An operator asked for it: every source is checked now, as with --manual.
  options.manual = true;
  options.trigger = "api";
  auto add = [&options](const std::string& flag, const std::string& value = "") {
    options.flags.push_back(flag);
    if (!value.empty()) options.flags.push_back(value);
  };
  add("api");
  if (!options.passes.empty()) add("--passes", options.passes);
  if (!options.resume_from.empty()) add("--resume-from", options.resume_from);
  if (options.resume) add("--resume");
  if (options.full_refresh) add("--full-refresh");
  if (options.baseline) add("--baseline");
  for (const std::string& s : options.sources) add("--source", s);
  if (!options.job_dir.empty()) add("--job-dir", options.job_dir);
  return options;
}

admin::PassStatus PassStatusOf(Pass pass, const PassRecord& record) {
  admin::PassStatus status;
  status.set_pass(PassLetter(pass));
  status.set_status(record.status().empty() ? kPassPending : record.status());
  status.set_tasks_total(record.metrics().tasks_total());
  status.set_tasks_reused(record.metrics().tasks_reused());
  if (record.status() == kPassSuccess) status.set_tasks_done(record.metrics().tasks_total());
  status.set_documents_failed(record.metrics().documents_failed());
  if (!record.started().empty()) *status.mutable_start_time() = TimestampOf(record.started());
  if (!record.ended().empty()) *status.mutable_end_time() = TimestampOf(record.ended());
  return status;
}

admin::Run RunOf(const StoredRun& stored, const std::vector<StoredPass>& passes) {
  admin::Run run;
  run.set_run_id(stored.run_id.value);
  run.set_job_id(stored.job_id);
  run.set_env(stored.env);
  run.set_trigger(TriggerOf(stored.trigger));
  if (!stored.options_json.empty()) (void)FromJson(stored.options_json, run.mutable_flags());
  run.set_state(RunStateOf(stored.status));
  if (!stored.started_at.empty()) *run.mutable_start_time() = TimestampOf(stored.started_at);
  if (!stored.ended_at.empty()) *run.mutable_end_time() = TimestampOf(stored.ended_at);
  for (const StoredPass& p : passes) {
    admin::PassStatus* status = run.add_passes();
    status->set_pass(p.pass);
    status->set_status(p.status);
    status->set_tasks_total(p.tasks);
    status->set_tasks_reused(p.reused);
    if (p.status == kPassSuccess) status->set_tasks_done(p.tasks);
    if (!p.started_at.empty()) *status->mutable_start_time() = TimestampOf(p.started_at);
    if (!p.ended_at.empty()) *status->mutable_end_time() = TimestampOf(p.ended_at);
  }
  if (!stored.summary_json.empty()) (void)FromJson(stored.summary_json, run.mutable_summary());
  run.set_report_path(stored.report_path);
  run.set_request_id(stored.request_id);
  run.set_job_dir(stored.job_dir);
  run.set_exit_code(stored.exit_code);
  run.set_cancel_reason(stored.cancel_reason);
  return run;
}

}  // namespace ingest
