#include <spdlog/spdlog.h>

#include "common/manifest.h"
#include "common/pass.h"
#include "common/proto_json.h"
#include "coordinator/run/run_outcome.h"

namespace ingest {

namespace {

// Logs every failure; returns the first.
Status FirstError(const std::vector<Status>& results) {
  Status first;
  for (const Status& s : results) {
    if (s.ok()) continue;
    LogEvent(spdlog::level::err, {.status = "state_store", .error = s.message()}, s.message());
    if (first.ok()) first = s;
  }
  return first;
}

}  // namespace

Status RecordDocuments(RunContext& ctx, bool documents_settled) {
  if (!ctx.store) return Status();
  StateStore& store = *ctx.store;
  const std::string& env = ctx.config.env;
  const Manifest& manifest = ctx.manifest;
  const std::string now = FormatTimestamp(std::chrono::system_clock::now());
  std::vector<Status> results;
  if (documents_settled) {
    // What discovery found is in the store once the passes began
    // (SourceScan::Commit); a run that stopped before them writes it now.
    if (!ctx.discovery.stored_updates.empty()) {
      std::vector<StoredDocument> discovered;
      for (const auto& [id, doc] : ctx.discovery.stored_updates) discovered.push_back(doc);
      results.push_back(store.PutDocuments(env, discovered, now));
    }
    // Then each document's outcome, counted on in the store: nothing per
    // document is held through the run but the manifest.
    std::vector<DocumentOutcome> outcomes;
    outcomes.reserve(manifest.documents_size());
    for (const auto& [id, doc] : manifest.documents()) {
      outcomes.push_back({.source_id = id,
                          .source = doc.source(),
                          .path = doc.path(),
                          .checksum = doc.checksum(),
                          .size = doc.bytes(),
                          .status = doc.status()});
    }
    results.push_back(store.SettleDocuments(env, outcomes, now));
    for (const auto& [name, source] : manifest.sources()) {
      const bool checked = source.status() != "not_due";
      results.push_back(store.PutSource(env, name, source.kind(), source.status(), checked,
                                        checked ? FormatTimestamp(ctx.started) : now));
    }
  }
  for (Pass p : ctx.passes) {
    const PassRecord& pass = PassEntry(manifest, p);
    if (pass.run_id() != ctx.run_id.value) continue;
    const ArtifactRecord artifact = pass.artifacts_size() > 0 ? pass.artifacts(0) : ArtifactRecord();
    results.push_back(store.RecordPass(ctx.run_id, PassLetter(p), pass.status(), pass.started(), pass.ended(),
                                       pass.metrics().tasks_total(), pass.metrics().tasks_reused(), artifact.records(),
                                       artifact.sha256()));
  }
  return FirstError(results);
}

Status RecordRunEnd(RunContext& ctx, const RunSummary& summary, const std::string& report_path) {
  if (!ctx.store) return Status();
  StateStore& store = *ctx.store;
  const std::string& env = ctx.config.env;
  const std::string now = FormatTimestamp(std::chrono::system_clock::now());
  std::vector<Status> results;
  StoredRun run{.run_id = ctx.run_id,
                .env = env,
                .job_id = ctx.manifest.job_id(),
                .job_dir = ctx.job_dir.string(),
                .ended_at = now,
                .status = summary.status(),
                .exit_code = summary.exit_code(),
                .summary_json = ToJson(summary),
                .report_path = report_path,
                .cancel_reason = summary.status() == kJobCancelled ? ctx.control->cancel_reason() : ""};
  results.push_back(store.RecordRunEnd(run));
  const bool ok = summary.status() == kJobCompleted || summary.status() == kJobPartial;
  results.push_back(
      store.RecordAudit(env, ctx.run_id, ok ? "ingestion_completed" : "ingestion_failed", ToJson(summary), now));
  return FirstError(results);
}

}  // namespace ingest
