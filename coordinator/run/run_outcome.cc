#include "coordinator/run/run_outcome.h"

#include <spdlog/spdlog.h>
#include <sys/resource.h>

#include <algorithm>
#include <iostream>

#include "common/manifest.h"
#include "common/pass.h"
#include "common/proto_json.h"
#include "coordinator/notify/ai_report.h"
#include "coordinator/notify/failure_report.h"

namespace ingest {
namespace {

constexpr size_t kSummaryErrors = 5;

// The count and the first few of the run's errors.
void SetErrors(const std::vector<std::string>& errors, RunSummary* summary) {
  summary->mutable_errors()->set_count(static_cast<uint32_t>(errors.size()));
  summary->mutable_errors()->clear_first();
  for (size_t i = 0; i < errors.size() && i < kSummaryErrors; ++i) summary->mutable_errors()->add_first(errors[i]);
}

}  // namespace

RunSummary RunOutcome::Summarize(const Status& fatal, std::vector<std::string>* run_errors) {
  Manifest& manifest = ctx_.manifest;
  uint32_t failed_docs = 0;
  uint32_t unchanged_docs = 0;
  std::vector<std::string> quarantined;
  // A resumed run skips the passes that succeeded, with their failed
  // documents: its summary names them too, so a partial run never reports
  // zero errors.
  std::vector<std::string> earlier_failures;
  for (const auto& [id, doc] : manifest.documents()) {
    if (doc.status() == kDocFailed) {
      ++failed_docs;
      Result<Pass> pass = ParsePass(doc.failed_pass());
      if (!pass.ok() || std::find(ctx_.passes.begin(), ctx_.passes.end(), *pass) == ctx_.passes.end()) {
        earlier_failures.push_back("pass " + doc.failed_pass() + ": " + doc.path() + ": " + doc.error_class() + ": " +
                                   doc.error());
      }
    }
    if (doc.status() == kDocUnchanged) ++unchanged_docs;
    if (doc.status() == kDocQuarantined) quarantined.push_back(doc.source() + "/" + doc.path());
  }
  // The manifest's map has no order.
  std::sort(quarantined.begin(), quarantined.end());
  std::sort(earlier_failures.begin(), earlier_failures.end());
  ctx_.errors.insert(ctx_.errors.end(), earlier_failures.begin(), earlier_failures.end());
  const auto documents = static_cast<uint32_t>(manifest.documents_size());
  const double budget = ctx_.config.run.max_failed_fraction;
  const bool over_budget = documents > 0 && static_cast<double>(failed_docs) / documents > budget;
  // Finish put what stopped the run first in its errors, with the reason
  // of a cancel (a signal, CancelRun, run.deadline_s).
  if (!fatal.ok()) run_errors->push_back(ctx_.errors.front());
  if (over_budget) {
    run_errors->push_back(std::to_string(failed_docs) + " of " + std::to_string(documents) +
                          " documents failed, more than run.max_failed_fraction=" + fmt::format("{}", budget));
    ctx_.errors.insert(ctx_.errors.begin(), run_errors->back());
  }
  for (Pass p : ctx_.passes) {
    const PassRecord& pass = PassEntry(manifest, p);
    if (pass.status() == kPassFailed && pass.run_id() == ctx_.run_id.value && pass.errors_size() > 0) {
      run_errors->push_back("pass " + PassLetter(p) + ": " + pass.errors(pass.errors_size() - 1));
    }
  }
  bool source_failed = false;
  for (const auto& [name, source] : manifest.sources()) {
    if (source.status() != "failed") continue;
    source_failed = true;
    run_errors->push_back("source " + name + " failed (see the log)");
  }
  std::string status = kJobCompleted;
  int exit_code = kExitCompleted;
  if (fatal.code() == StatusCode::kCancelled) {
    // Stopped on request: resumable, and neither a success nor a failure.
    status = kJobCancelled;
    exit_code = ctx_.control->cancel_exit_code();
  } else if (!fatal.ok() || ctx_.pass_failed || over_budget) {
    status = kJobFailed;
    exit_code = kExitFailed;
  } else if (failed_docs > 0 || source_failed) {
    status = kJobPartial;
    exit_code = kExitPartial;
  }

  Metrics* totals = manifest.mutable_metrics();
  totals->set_documents(documents);
  totals->set_documents_failed(failed_docs);

  RunSummary summary;
  summary.set_run_id(ctx_.run_id.value);
  summary.set_job_id(manifest.job_id());
  summary.set_env(ctx_.config.env);
  summary.set_status(status);
  summary.set_exit_code(exit_code);
  summary.set_duration_s(SecondsSince(ctx_.started_steady));
  DocumentCounts* docs = summary.mutable_documents();
  *docs = manifest.changes();
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
  *summary.mutable_tasks() = ctx_.tasks;
  SetErrors(ctx_.errors, &summary);
  summary.set_job_dir(ctx_.job_dir.string());
  return summary;
}

int RunOutcome::Finish(const Status& fatal) {
  if (fatal.code() == StatusCode::kCancelled) {
    const std::string why = "cancelled (" + ctx_.control->cancel_reason() + "): " + fatal.message();
    ctx_.errors.insert(ctx_.errors.begin(), why);
    spdlog::warn("{}", why);
  } else if (!fatal.ok()) {
    ctx_.errors.insert(ctx_.errors.begin(), fatal.message());
    spdlog::error("{}", fatal.message());
  }
  std::vector<std::string> run_errors;  // the run's own, for the failure report
  RunSummary summary = Summarize(fatal, &run_errors);
  int exit_code = summary.exit_code();
  // What the run could not write at its end fails it, first in its errors.
  size_t end_errors = 0;
  auto fail = [&](const std::string& message) {
    ctx_.errors.insert(ctx_.errors.begin() + static_cast<std::ptrdiff_t>(end_errors), message);
    run_errors.insert(run_errors.begin() + static_cast<std::ptrdiff_t>(end_errors), message);
    ++end_errors;
    summary.set_status(kJobFailed);
    summary.set_exit_code(kExitFailed);
    exit_code = kExitFailed;
    SetErrors(ctx_.errors, &summary);
  };
  auto save_manifest = [&] {
    ctx_.run_record->set_ended(FormatTimestamp(std::chrono::system_clock::now()));
    ctx_.run_record->set_status(summary.status());
    ctx_.run_record->set_exit_code(exit_code);
    ctx_.manifest.set_status(summary.status());
    *ctx_.manifest.mutable_summary() = summary;
    return ctx_.SaveManifest();
  };
  if (Status saved = save_manifest(); !saved.ok()) {
    spdlog::error("{}", saved.message());
    fail(saved.message());
  } else if (Status recorded = RecordDocuments(ctx_, fatal.ok() && !ctx_.pass_failed); !recorded.ok()) {
    // The job says so too: `--resume` of it records the outcome again.
    fail(recorded.message());
    if (Status resaved = save_manifest(); !resaved.ok()) spdlog::error("{}", resaved.message());
  }
  std::string report_path;
  if (summary.status() != kJobCompleted) {
    FailureReportInput input{ctx_.manifest, summary, run_errors, ctx_.config.file, ctx_.job_dir, ctx_.started};
    AddAiSection(ctx_.config.ai_report, input);
    Result<std::filesystem::path> report = WriteFailureReport(ctx_.config.report_dir, input);
    if (report.ok()) {
      report_path = report->string();
      LogEvent(spdlog::level::warn, {.status = "report"}, "failure report: " + report_path);
    } else {
      LogEvent(spdlog::level::err, {.status = "report", .error = report.status().message()},
               "failure report not written: " + report.status().message());
    }
  }
  if (Status recorded = RecordRunEnd(ctx_, summary, report_path); !recorded.ok()) fail(recorded.message());
  retention_.Apply();
  ctx_.notifier->RunFinished({summary, report_path, ctx_.log_path});
  LogEvent(exit_code == kExitCompleted ? spdlog::level::info : spdlog::level::warn,
           {.status = summary.status(),
            .error = fatal.ok() ? "" : fatal.message(),
            .count = summary.documents().failed(),
            .duration_s = summary.duration_s()},
           "run " + ctx_.run_id.value + " " + summary.status() + " (exit " + std::to_string(exit_code) + "); " +
               CpuReport());
  ctx_.log.reset();
  // Whoever sees the run end may start the next one at once.
  ctx_.lock.reset();
  ctx_.RunEnded(summary, report_path, exit_code);
  std::cerr << "job directory: " << ctx_.job_dir.string() << "\n";
  std::cout << ToJson(summary) << std::endl;
  return exit_code;
}

int RunOutcome::FinishWithoutJob(const Status& fatal) {
  spdlog::error("{}", fatal.message());
  // A job that cannot be found or opened is a usage problem only when the
  // flags asked for one that does not exist.
  const int exit_code = fatal.code() == StatusCode::kNotFound ? kExitUsage : kExitFailed;
  const RunSummary summary = StoppedRunSummary(ctx_.run_id.value, ctx_.config.env, exit_code, fatal.message());
  (void)ctx_.store->RecordAudit(ctx_.config.env, ctx_.run_id, "ingestion_failed", ToJson(summary),
                                FormatTimestamp(std::chrono::system_clock::now()));
  ctx_.notifier->RunFinished({summary, ""});
  ctx_.lock.reset();
  ctx_.RunEnded(summary, "", exit_code);
  std::cout << ToJson(summary) << std::endl;
  return exit_code;
}

RunSummary StoppedRunSummary(const std::string& run_id, const std::string& env, int exit_code,
                             const std::string& error) {
  RunSummary summary;
  summary.set_run_id(run_id);
  summary.set_env(env);
  summary.set_status(exit_code == kExitCompleted ? kJobCompleted : kJobFailed);
  summary.set_exit_code(exit_code);
  if (!error.empty()) SetErrors({error}, &summary);
  return summary;
}

std::string RunOutcome::CpuReport() const {
  rusage usage{};
  ::getrusage(RUSAGE_SELF, &usage);
  const double cpu_s = static_cast<double>(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) +
                       static_cast<double>(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) * 1e-6;
  const uint32_t tasks = ctx_.tasks.total();
  // ru_maxrss is in KiB on Linux.
  return fmt::format("coordinator CPU {:.2f} s, {:.0f} us per task, peak RSS {} MB", cpu_s,
                     tasks > 0 ? cpu_s / tasks * 1e6 : 0.0, usage.ru_maxrss / 1024);
}

}  // namespace ingest
