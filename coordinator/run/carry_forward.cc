#include "coordinator/run/carry_forward.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <utility>

#include "common/artifact.h"
#include "common/atomic_file.h"
#include "common/manifest.h"
#include "common/pass.h"
#include "common/sha256.h"
#include "coordinator/pass/task_journal.h"

namespace ingest {

std::string PassInputDigester::Digest(const RunContext& ctx, Pass pass) {
  Sha256 hash;
  // Fields are gathered and hashed 64 KiB at a time: five fields a document,
  // each hashed by itself, cost more in calls than in bytes.
  std::string pending;
  auto field = [&hash, &pending](std::string_view text) {
    pending.append(text);
    pending.push_back('\0');
    if (pending.size() >= size_t{64} << 10) {
      hash.Update(pending);
      pending.clear();
    }
  };
  field("ingestfleet " INGEST_VERSION);
  field(PassLetter(pass));
  const PassesConfig& p = ctx.config.passes;
  field(fmt::format("{} {} {} {}", p.split_threshold_mb, p.split_pages, p.chunk_chars, p.overlap_chars));
  std::map<std::string, std::string> roots;
  for (const SourceConfig& source : ctx.config.sources) roots[source.name] = source.root.string();
  FindSortedDocuments(ctx.manifest);
  for (size_t i = 0; i < records_.size(); ++i) {
    const DocumentRecord* doc = records_[i];
    if (doc->status() != kDocProcessed && doc->status() != kDocUnchanged) continue;
    field(Id(i));
    field(doc->source());
    field(roots[doc->source()]);
    field(doc->path());
    field(doc->checksum());
  }
  for (Pass upstream : UpstreamPasses(pass)) {
    const PassRecord& record = PassEntry(ctx.manifest, upstream);
    field(record.artifacts_size() > 0 ? record.artifacts(0).sha256() : "missing");
  }
  hash.Update(pending);
  return hash.HexDigest();
}

std::string_view PassInputDigester::Id(size_t i) const {
  const size_t begin = i == 0 ? 0 : ends_[i - 1];
  return std::string_view(ids_).substr(begin, ends_[i] - begin);
}

void PassInputDigester::FindSortedDocuments(const Manifest& manifest) {
  // The order of the last pass holds while the manifest has exactly its ids:
  // as many, and each one found (by its own copy of the id, never through a
  // pointer the manifest may have let go of).
  const auto& documents = manifest.documents();
  bool same = ends_.size() == static_cast<size_t>(documents.size());
  for (size_t i = 0; same && i < ends_.size(); ++i) {
    auto found = documents.find(Id(i));
    same = found != documents.end();
    if (same) records_[i] = &found->second;
  }
  if (same) return;
  std::vector<std::pair<std::string_view, const DocumentRecord*>> entries;
  entries.reserve(documents.size());
  for (const auto& [id, doc] : documents) entries.emplace_back(id, &doc);
  std::sort(entries.begin(), entries.end());
  ids_.clear();
  ends_.clear();
  records_.clear();
  for (const auto& [id, doc] : entries) {
    ids_.append(id);
    ends_.push_back(ids_.size());
    records_.push_back(doc);
  }
}

Result<CarryForward> CarryForward::Find(RunContext& ctx) {
  CarryForward carry;
  if (ctx.recompute_all() || ctx.explicit_rerun()) return carry;
  INGEST_ASSIGN_OR_RETURN(std::optional<StoredRun> last,
                          ctx.store->LastSuccessfulRun(ctx.config.env, ctx.manifest.job_id()));
  if (!last || !std::filesystem::exists(std::filesystem::path(last->job_dir) / "journal")) return carry;
  carry.previous_job_ = last->job_dir;
  ctx.manifest.set_carried_from(last->job_id);
  spdlog::info("unchanged documents are carried forward from job {}", last->job_id);
  // Its passes, not its documents: this run's discovery stands for those.
  Result<Manifest> previous = LoadManifestWithoutDocuments(carry.previous_job_ / kManifestFileName);
  if (previous.ok()) {
    carry.previous_manifest_ = std::move(*previous);
  } else {
    spdlog::warn("passes cannot be copied whole from job {}: {}", last->job_id, previous.status().message());
  }
  return carry;
}

std::filesystem::path CarryForward::PreviousJournal(Pass pass) const {
  if (previous_job_.empty()) return {};
  return JournalPath(previous_job_, pass);
}

Result<bool> CarryForward::Carry(RunContext& ctx, Pass pass, PassRecord& record, uint32_t stale_deleted) const {
  if (!previous_manifest_) return false;
  Manifest& manifest = ctx.manifest;
  const PassRecord& before = PassEntry(*previous_manifest_, pass);
  // Failures are retried, not copied; an upstream pass that is not SUCCESS
  // here leaves the verdict to the gate.
  if (before.status() != kPassSuccess || before.input_digest() != record.input_digest() ||
      before.metrics().documents_failed() > 0 || before.artifacts_size() != 1) {
    return false;
  }
  for (Pass upstream : UpstreamPasses(pass)) {
    if (PassEntry(manifest, upstream).status() != kPassSuccess) return false;
  }
  const PassInfo& info = Describe(pass);
  const std::filesystem::path from = previous_job_ / info.artifact;
  const std::filesystem::path to = ctx.job_dir / info.artifact;
  ArtifactRecord artifact = before.artifacts(0);
  if (info.merge == MergeKind::kCleanup) {
    CleanupRecord cleanup;
    INGEST_ASSIGN_OR_RETURN(ArtifactScan scan, ScanArtifact(from, pass, [&cleanup](const google::protobuf::Message& m) {
                              cleanup.CopyFrom(m);
                              return Status::Ok();
                            }));
    if (scan.records != 1) return false;
    cleanup.set_stale_deleted(stale_deleted);
    INGEST_ASSIGN_OR_RETURN(ArtifactWriter writer, ArtifactWriter::Open(to, pass));
    INGEST_RETURN_IF_ERROR(writer.Add(cleanup));
    INGEST_ASSIGN_OR_RETURN(artifact, writer.Commit());
  } else {
    // A file still as it was when its job hashed it is not read again: on a
    // rerun with nothing changed, hashing every artifact was a third of the
    // run. Any other is hashed, and rerun if it is not what was recorded.
    if (MatchesStamp(from, artifact)) {
      // Durable with the manifest that records it (its save fsyncs the job
      // directory); a crash before then copies the pass again.
      INGEST_RETURN_IF_ERROR(LinkOrCopyFile(from, to, /*sync_directory=*/false));
    } else {
      INGEST_ASSIGN_OR_RETURN(std::string sha, LinkOrCopyFileAtomic(from, to));
      if (sha != artifact.sha256()) {
        std::filesystem::remove(to);
        spdlog::warn("{} of job {} changed since it was recorded; pass {} runs", info.artifact,
                     previous_manifest_->job_id(), info.letter);
        return false;
      }
    }
    // The same inode when linked; a copy is a file of its own.
    INGEST_ASSIGN_OR_RETURN(FileIdentity linked, IdentifyFile(to));
    *artifact.mutable_stamp() = StampOf(linked);
  }
  // The journal comes along: the next job carries its tasks forward from
  // here. A hard link, as the artifact, with the segments beside it that it
  // references: TaskJournal::Open unshares it before this job appends to it
  // (segments are never written).
  const std::filesystem::path journal = JournalPath(ctx.job_dir, pass);
  std::error_code ec;
  std::filesystem::create_directories(journal.parent_path(), ec);
  if (std::filesystem::exists(JournalPath(previous_job_, pass), ec)) {
    // Its entries carry their own checksums, checked when it is opened.
    // Not fsynced: a journal lost to a crash is rebuilt by whoever needs it
    // (a later pass reads the artifact instead; the next job recomputes).
    INGEST_RETURN_IF_ERROR(LinkJournal(JournalPath(previous_job_, pass), journal));
  }
  *record.add_artifacts() = artifact;
  *record.mutable_metrics() = before.metrics();
  record.mutable_metrics()->set_tasks_executed(0);
  record.mutable_metrics()->set_tasks_retried(0);
  record.mutable_metrics()->set_tasks_requeued(0);
  record.mutable_metrics()->set_tasks_reused(before.metrics().tasks_total());
  record.set_carried_from(previous_manifest_->job_id());
  CopyTotals(pass, previous_manifest_->metrics(), manifest.mutable_metrics());
  if (info.defines_documents) {
    for (auto& [id, doc] : *manifest.mutable_documents()) {
      if (doc.status() == kDocProcessed || doc.status() == kDocUnchanged) {
        (*manifest.mutable_source_sha_map())[id] = doc.checksum();
      }
    }
  }
  return true;
}

}  // namespace ingest
