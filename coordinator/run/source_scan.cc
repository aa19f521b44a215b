#include "coordinator/run/source_scan.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <future>
#include <numeric>

#include "common/cron.h"
#include "common/manifest.h"
#include "common/pass.h"
#include "coordinator/sources/check_frequency.h"
#include "coordinator/sources/discovery.h"
#include "coordinator/sources/http_source.h"

namespace ingest {
namespace {

// The kind of a document failed because its name cannot be carried.
constexpr char kInvalidName[] = "invalid_name";

// Whether a source is checked in this run. An operator's --manual run, a
// refresh, a baseline or a named source checks now; scheduled runs follow
// each source's check_frequency.
Result<bool> SourceDue(const Config& config, const RunOptions& options, StateStore& store, const SourceConfig& source,
                       WallTime now) {
  if (options.manual || options.full_refresh || options.baseline || !options.sources.empty()) return true;
  INGEST_ASSIGN_OR_RETURN(std::optional<StoredSource> stored, store.Source(config.env, source.name));
  const std::optional<absl::Time> last = stored ? ParseTimestamp(stored->last_checked_at) : std::nullopt;
  INGEST_ASSIGN_OR_RETURN(absl::TimeZone zone, LoadZone(config.schedule.timezone));
  Result<bool> due = IsDue(source.check_frequency, last, absl::FromChrono(now), zone);
  if (!due.ok()) return InvalidArgument("source " + source.name + ": check_frequency: " + due.status().message());
  return *due;
}

}  // namespace

Result<std::vector<ScannedSource>> ScanSources(const Config& config, const RunOptions& options, StateStore* store,
                                               WallTime now) {
  for (const std::string& name : options.sources) {
    if (std::none_of(config.sources.begin(), config.sources.end(),
                     [&name](const SourceConfig& s) { return s.name == name; })) {
      return InvalidArgument("--source " + name + ": no such source in the config");
    }
  }
  const bool hash_all = options.full_refresh || options.baseline;
  std::vector<ScannedSource> scanned;
  for (const SourceConfig& source : config.sources) {
    if (!options.sources.empty() &&
        std::find(options.sources.begin(), options.sources.end(), source.name) == options.sources.end()) {
      continue;
    }
    ScannedSource& s = scanned.emplace_back();
    s.source = &source;
    bool due = true;
    if (store != nullptr) {
      INGEST_ASSIGN_OR_RETURN(due, SourceDue(config, options, *store, source, now));
    }
    // The walk of a due file source (a stat of every file) and the read of
    // what the store knows of it overlap: on a rerun with nothing changed
    // they are most of the run. (The future waits for the walk whatever
    // way this scope is left.)
    std::future<Result<std::vector<DiscoveredDocument>>> walk;
    if (due && source.kind != "http") {
      walk = std::async(std::launch::async, [&source] { return DiscoverDocuments(source); });
    }
    if (store != nullptr) {
      INGEST_ASSIGN_OR_RETURN(s.stored, store->Documents(config.env, source.name));
    }
    if (!due) {
      s.state = ScannedSource::State::kNotDue;
      continue;
    }
    if (source.kind == "http") {
      s.state = ScannedSource::State::kToFetch;
      continue;
    }
    Result<std::vector<DiscoveredDocument>> docs = walk.get();
    if (!docs.ok()) {
      s.state = ScannedSource::State::kUnreadable;
      s.error = docs.status();
      continue;
    }
    s.state = ScannedSource::State::kFound;
    s.changes = DetectChanges(source, std::move(*docs), s.stored, hash_all);
  }
  return scanned;
}

Status SourceScan::Run() {
  Manifest& manifest = ctx_.manifest;
  manifest.clear_documents();
  manifest.clear_sources();
  manifest.clear_source_sha_map();
  INGEST_ASSIGN_OR_RETURN(std::vector<ScannedSource> scanned,
                          ScanSources(ctx_.config, ctx_.options, &*ctx_.store, ctx_.started));
  for (ScannedSource& s : scanned) {
    SourceRecord& record = (*manifest.mutable_sources())[s.source->name];
    record.set_kind(s.source->kind);
    switch (s.state) {
      case ScannedSource::State::kNotDue:
        AddNotDue(*s.source, s.stored);
        break;
      case ScannedSource::State::kToFetch:
        ctx_.discovery.pending_pages.push_back({s.source, std::move(s.stored)});
        break;
      case ScannedSource::State::kUnreadable:
        record.set_status("failed");
        ctx_.errors.push_back(s.error.message());
        LogEvent(spdlog::level::err, {.status = "failed", .error = "source_unreadable"}, s.error.message());
        break;
      case ScannedSource::State::kFound:
        AddDetected(*s.source, std::move(s.changes), s.stored);
        break;
    }
  }
  return Status::Ok();
}

Status SourceScan::FetchPages(Fleet& fleet) {
  std::vector<PendingHttpSource>& pending = ctx_.discovery.pending_pages;
  PageStore pages(PageStore::DirOf(ctx_.config));
  PageFetchPlan plan(pages);
  const bool conditional = !ctx_.recompute_all();
  for (const PendingHttpSource& p : pending) plan.AddSource(*p.source, p.stored, conditional);
  std::vector<size_t> order(plan.size());
  std::iota(order.begin(), order.end(), size_t{0});
  LogEvent(spdlog::level::info, {.status = "fetching", .count = plan.size()},
           "fetching " + std::to_string(plan.size()) + " pages of " + std::to_string(pending.size()) + " http sources");
  PassMetrics metrics;
  RunControl& control = *ctx_.control;
  Status executed = fleet.Execute(order, plan, &metrics,
                                  {.cancelled = [&control] { return control.cancel_requested(); },
                                   .cancel_grace = std::chrono::seconds(ctx_.config.run.cancel_grace_s)});
  metrics.set_tasks_total(static_cast<uint32_t>(plan.size()));
  ctx_.CountTasks(metrics);
  INGEST_RETURN_IF_ERROR(executed);
  for (const PendingHttpSource& p : pending) {
    std::vector<std::string> errors;
    AddDetected(*p.source, plan.Settle(*p.source, p.stored, pages, &errors), p.stored);
    if (errors.empty()) continue;
    (*ctx_.manifest.mutable_sources())[p.source->name].set_status("failed");
    for (const std::string& error : errors) {
      ctx_.errors.push_back(error);
      LogEvent(spdlog::level::err, {.status = "failed", .error = "fetch_failed"}, error);
    }
  }
  pending.clear();
  return Status::Ok();
}

Status SourceScan::Commit() {
  Discovery& discovery = ctx_.discovery;
  *ctx_.manifest.mutable_changes() = discovery.counts;
  const std::string now = FormatTimestamp(std::chrono::system_clock::now());
  std::vector<StoredDocument> updates;
  for (const auto& [id, doc] : discovery.stored_updates) updates.push_back(doc);
  INGEST_RETURN_IF_ERROR(ctx_.store->PutDocuments(ctx_.config.env, updates, now));
  INGEST_RETURN_IF_ERROR(ctx_.store->RecordChanges(ctx_.config.env, ctx_.run_id, discovery.changes, now));
  // Durable now: the run's end counts outcomes on in the store, so a large
  // corpus's discovery is not held through the passes.
  discovery.stored_updates = {};
  discovery.changes = {};
  return Status::Ok();
}

void SourceScan::AddDetected(const SourceConfig& source, SourceChanges changes,
                             const std::map<std::string, StoredDocument>& stored) {
  const RunOptions& options = ctx_.options;
  Manifest& manifest = ctx_.manifest;
  DocumentCounts& counts = ctx_.discovery.counts;
  SourceRecord& record = (*manifest.mutable_sources())[source.name];
  uint32_t changed = 0;
  for (DetectedDocument& d : changes.documents) {
    if (options.baseline) d.change = Change::kNew;  // the first run: everything is new, nothing compared
    DocumentRecord& doc = (*manifest.mutable_documents())[d.document.source_id];
    doc.set_source(d.document.source);
    doc.set_path(d.document.path);
    doc.set_bytes(d.document.bytes);
    doc.set_checksum(d.checksum);
    const bool quarantined = d.change == Change::kUnchanged && !options.full_refresh &&
                             d.consecutive_failures >= ctx_.config.run.quarantine_after;
    if (quarantined) {
      doc.set_status(kDocQuarantined);
    } else if (!d.document.name_error.empty()) {
      FailBeforeDispatch(d.document, &doc);
    } else if (d.change == Change::kUnchanged && !d.previously_failed) {
      doc.set_status(kDocUnchanged);
    } else {
      doc.set_status(kDocProcessed);
    }
    switch (d.change) {
      case Change::kNew:
        counts.set_new_(counts.new_() + 1);
        break;
      case Change::kModified:
        counts.set_changed(counts.changed() + 1);
        break;
      case Change::kUnchanged:
        counts.set_unchanged(counts.unchanged() + 1);
        break;
    }
    if (d.change != Change::kUnchanged) {
      ++changed;
      if (!options.baseline) {
        ctx_.discovery.changes.push_back({source.name, d.document.source_id, d.document.path, ChangeName(d.change),
                                          d.checksum, d.previous_checksum});
      }
    }
    StoredDocument update{d.document.source_id, source.name,  d.document.path,        d.checksum, d.document.bytes,
                          d.mtime_ns,           doc.status(), d.consecutive_failures, d.etag,     d.last_modified};
    // A row the store holds as it is is not written again at Commit: on a
    // rerun with nothing changed that is every row. The run's end records
    // every document's outcome either way.
    if (auto known = stored.find(update.source_id); known != stored.end() && known->second == update) continue;
    ctx_.discovery.stored_updates[update.source_id] = std::move(update);
  }
  for (StoredDocument& gone : changes.deleted) {
    counts.set_deleted(counts.deleted() + 1);
    ++changed;
    ctx_.discovery.changes.push_back({source.name, gone.source_id, gone.path, "deleted", "", gone.checksum});
    gone.last_status = "deleted";
    ctx_.discovery.stored_updates[gone.source_id] = std::move(gone);
  }
  record.set_status(changed > 0 ? "processed" : "unchanged");
  record.set_documents(static_cast<uint32_t>(changes.documents.size()));
  LogEvent(spdlog::level::info, {.status = "discovered", .count = changes.documents.size()},
           "source " + source.name + ": " + std::to_string(changes.documents.size()) + " documents, " +
               std::to_string(changed) + " new, modified or deleted; " + std::to_string(changes.hashed) +
               " read for their checksum");
}

void SourceScan::FailBeforeDispatch(const DiscoveredDocument& found, DocumentRecord* doc) {
  // Failed as pass A would fail it, so reports, resumes and quarantine
  // treat it as any document that pass A could not read.
  doc->set_status(kDocFailed);
  doc->set_error_class(kInvalidName);
  doc->set_error(found.name_error);
  doc->set_failed_pass(PassLetter(Pass::PASS_A));
  ctx_.errors.push_back(found.path + ": " + kInvalidName + ": " + found.name_error);
  LogEvent(spdlog::level::warn, {.pass = "A", .status = "failed", .error = kInvalidName},
           "document " + found.source + "/" + found.path + " failed before pass A: " + found.name_error);
}

void SourceScan::AddNotDue(const SourceConfig& source, const std::map<std::string, StoredDocument>& stored) {
  // Its documents stay as they were last seen; their results carry forward.
  SourceRecord& record = (*ctx_.manifest.mutable_sources())[source.name];
  record.set_status("not_due");
  uint32_t kept = 0;
  for (const auto& [id, known] : stored) {
    if (known.last_status != kDocProcessed && known.last_status != kDocUnchanged) continue;
    DocumentRecord& doc = (*ctx_.manifest.mutable_documents())[id];
    doc.set_source(source.name);
    doc.set_path(known.path);
    doc.set_bytes(known.size);
    doc.set_checksum(known.checksum);
    doc.set_status(kDocUnchanged);
    ctx_.discovery.counts.set_unchanged(ctx_.discovery.counts.unchanged() + 1);
    ++kept;
  }
  record.set_documents(kept);
  LogEvent(spdlog::level::info, {.status = "not_due", .count = kept},
           "source " + source.name + " is not due (check_frequency " + source.check_frequency +
               "): " + std::to_string(kept) + " documents kept as last seen");
}

}  // namespace ingest
