#include "coordinator/pass/pass_executor.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstring>
#include <memory>
#include <set>
#include <unordered_map>

#include "common/manifest.h"
#include "common/pass.h"
#include "common/result_seal.h"
#include "common/run_log.h"
#include "common/sha256.h"
#include "coordinator/sources/http_source.h"

namespace ingest {
namespace {

constexpr size_t kMaxErrorsKept = 50;
// Bounds the dictionary sent with every pass D task.
constexpr size_t kMaxDictionaryTerms = 10000;
// A task over this many bytes goes out before the others of its priority,
// largest first, so that it does not form the tail of the pass.
constexpr uint64_t kHeavyTaskBytes = 1 << 20;
// Pass E's entity ids and lines are kept in blocks of this size.
constexpr size_t kEntityBlockBytes = 1 << 20;

}  // namespace

PassExecutor::PassExecutor(Pass pass, const Config& config, Manifest& manifest, std::filesystem::path job_dir,
                           std::map<Pass, ArtifactScan> upstream, const std::map<Pass, PassResults>& results)
    : pass_(pass),
      info_(Describe(pass)),
      config_(config),
      manifest_(manifest),
      job_dir_(std::move(job_dir)),
      work_dir_(job_dir_ / ".work"),
      upstream_(std::move(upstream)),
      upstream_results_(results) {
  for (const SourceConfig& s : config_.sources) sources_[s.name] = &s;
}

bool PassExecutor::DocumentFailed(const std::string& source_id) const {
  auto it = manifest_.documents().find(source_id);
  if (it == manifest_.documents().end()) return true;
  const std::string& status = it->second.status();
  return status != kDocProcessed && status != kDocUnchanged;  // failed or quarantined
}

bool PassExecutor::FailedInPass(const std::string& source_id) const {
  // Only Apply marks a planned document failed (PlannableDocuments left out
  // those that had failed before): until it has, there is nothing to look
  // up, which was 5 % of a rerun's main thread, three lookups a document.
  return outcome_.documents_failed > 0 && DocumentFailed(source_id);
}

std::vector<std::string> PassExecutor::PlannableDocuments() const {
  std::vector<std::string> ids;
  if (info_.planned_from == Pass::PASS_UNSPECIFIED) {
    for (const auto& [id, doc] : manifest_.documents()) {
      if (!DocumentFailed(id)) ids.push_back(id);
    }
    std::sort(ids.begin(), ids.end());  // protobuf maps iterate in no fixed order
    return ids;
  }
  for (const auto& [id, range] : *upstream_.at(info_.planned_from).index) {
    if (!id.empty() && !DocumentFailed(std::string(id))) ids.emplace_back(id);
  }
  return ids;
}

void PassExecutor::AddTask(const std::string& source_id, std::unique_ptr<SplitRecord> part) {
  static const std::string kLowestPriority = "P9";
  PlannedTask t;
  t.source_id = source_id;
  const DocumentRecord& doc = manifest_.documents().at(source_id);
  auto source = sources_.find(doc.source());
  t.priority = source == sources_.end() ? &kLowestPriority : &source->second->priority;
  t.weight = part ? part->byte_end() - part->byte_start() : doc.bytes();
  t.part = std::move(part);
  tasks_.push_back(std::move(t));
}

std::string PassExecutor::TaskId(size_t index) const {
  const PlannedTask& t = tasks_[index];
  return MakeTaskId(pass_, t.source_id, t.part ? t.part->part() : 0);
}

Status PassExecutor::ReadUpstream(Pass upstream, const std::string& source_id, RecordBatch* batch) const {
  std::string bytes;
  INGEST_RETURN_IF_ERROR(UpstreamRecords(upstream, source_id, &bytes, nullptr));
  if (!batch->MergeFromString(bytes)) {
    return DataLoss("pass " + PassLetter(upstream) + ": unreadable records of " + source_id);
  }
  return Status::Ok();
}

Status PassExecutor::UpstreamRecords(Pass upstream, const std::string& source_id, std::string* records,
                                     std::string* digest) const {
  const ArtifactScan& scan = upstream_.at(upstream);
  const RecordRange* range = scan.index->Find(source_id);
  const uint32_t in_artifact = range == nullptr ? 0 : range->records;
  if (auto results = upstream_results_.find(upstream); results != upstream_results_.end()) {
    uint32_t count = 0;
    INGEST_RETURN_IF_ERROR(results->second.Append(source_id, records, digest, &count));
    // The journal must hold what the artifact, whose hash the gate checked, holds.
    if (records != nullptr && count != in_artifact) {
      return DataLoss("pass " + PassLetter(upstream) + " journal: " + std::to_string(count) + " records of " +
                      source_id + ", its artifact " + std::to_string(in_artifact));
    }
    return Status::Ok();
  }
  // Without a journal, from the artifact itself (checked by the gate): its
  // records parsed, and named in digests by their bytes.
  if (in_artifact == 0) return Status::Ok();  // e.g. a document without chunks
  RecordBatch batch;
  INGEST_RETURN_IF_ERROR(ReadRecords(job_dir_ / ArtifactFileName(upstream), upstream, *range, &batch));
  const std::string bytes = batch.SerializeAsString();
  if (digest != nullptr) *digest += Sha256Hex(bytes);
  if (records != nullptr) records->append(bytes);
  return Status::Ok();
}

Status PassExecutor::Plan() {
  std::error_code ec;
  std::filesystem::create_directories(work_dir_, ec);
  if (ec) return ErrnoStatus(ec.value(), work_dir_.string());

  for (const std::string& id : PlannableDocuments()) {
    if (info_.unit == TaskUnit::kDocument) {
      AddTask(id);
      continue;
    }
    // One task per part; only pass B's parts are planned from so far.
    RecordBatch splits;
    INGEST_RETURN_IF_ERROR(ReadUpstream(info_.planned_from, id, &splits));
    for (const SplitRecord& part : splits.splits()) AddTask(id, std::make_unique<SplitRecord>(part));
  }
  if (info_.params == Task::kEnrich) INGEST_RETURN_IF_ERROR(CollectDictionary());
  const std::filesystem::path journal_dir = job_dir_ / "journal";
  std::filesystem::create_directories(journal_dir, ec);
  if (ec) return ErrnoStatus(ec.value(), journal_dir.string());
  INGEST_ASSIGN_OR_RETURN(TaskJournal journal, TaskJournal::Open(JournalPath(job_dir_, pass_), !reuse_.own_journal));
  INGEST_RETURN_IF_ERROR(SyncDirectory(journal_dir));
  if (journal.discarded_bytes() > 0) {
    LogEvent(spdlog::level::warn,
             {.pass = PassLetter(pass_), .status = "journal_truncated", .count = journal.discarded_bytes()},
             journal.path().string() + ": discarded a damaged or half-written tail of " +
                 std::to_string(journal.discarded_bytes()) + " bytes");
  }
  WarnOfDroppedReferences(journal);
  journal_ = std::make_shared<TaskJournal>(std::move(journal));
  digests_.assign(tasks_.size(), "");
  results_.assign(tasks_.size(), std::nullopt);
  settled_.assign(tasks_.size(), false);
  return Status::Ok();
}

void PassExecutor::WarnOfDroppedReferences(const TaskJournal& journal) const {
  if (journal.dropped_references() == 0) return;
  LogEvent(spdlog::level::warn,
           {.pass = PassLetter(pass_), .status = "journal_references_dropped", .count = journal.dropped_references()},
           journal.path().string() + ": " + std::to_string(journal.dropped_references()) +
               " results it references are missing or damaged in its segments; their tasks run again");
}

Status PassExecutor::CollectDictionary() {
  std::set<std::string> terms;
  for (const auto& [view, range] : *upstream_.at(Pass::PASS_A).index) {
    const std::string id(view);
    if (id.empty() || DocumentFailed(id)) continue;
    RecordBatch toc;
    INGEST_RETURN_IF_ERROR(ReadUpstream(Pass::PASS_A, id, &toc));
    for (const TocRecord& r : toc.toc()) {
      for (const DictionaryTerm& t : r.terms()) {
        if (terms.size() < kMaxDictionaryTerms) terms.insert(t.term());
      }
    }
  }
  dictionary_.assign(terms.begin(), terms.end());
  return Status::Ok();
}

Result<PassExecutor::Reused> PassExecutor::ReuseCommitted() {
  std::optional<TaskJournal> previous;
  std::error_code ec;
  if (!reuse_.previous_journal.empty() &&
      (reuse_.opening.valid() || std::filesystem::exists(reuse_.previous_journal, ec))) {
    Result<TaskJournal> opened =
        reuse_.opening.valid() ? reuse_.opening.get() : TaskJournal::OpenReadOnly(reuse_.previous_journal);
    if (opened.ok()) {
      WarnOfDroppedReferences(*opened);
      previous.emplace(std::move(*opened));
    } else {
      spdlog::warn("not carrying results forward from {}: {}", reuse_.previous_journal.string(),
                   opened.status().message());
    }
  }
  Reused reused;
  if (journal_->earlier_entries() == 0 && (!previous || previous->earlier_entries() == 0)) return reused;
  // The last entry of a task id, if it was committed for the very same task.
  const auto same_task = [this](const TaskJournal* journal, const std::string& id,
                                size_t i) -> const TaskJournal::Indexed* {
    if (journal == nullptr) return nullptr;
    auto it = journal->entries().find(id);
    if (it == journal->entries().end() || it->second.digest != digests_[i]) return nullptr;
    return &it->second;
  };
  std::vector<TaskJournal::Carried> carried;
  std::vector<size_t> carried_tasks;
  for (size_t i = 0; i < tasks_.size(); ++i) {
    std::string id = TaskId(i);
    if (journal_->Earlier(id) == std::nullopt && (!previous || previous->Earlier(id) == std::nullopt)) continue;
    // A task whose inputs changed since (or that cannot be built) runs again.
    Result<Task> task = PlanTask(i);
    if (!task.ok()) continue;
    if (const TaskJournal::Indexed* own = same_task(journal_.get(), id, i)) {
      Result<JournalEntry> entry = journal_->Read(own->at);
      if (entry.ok()) {
        Apply(i, entry->result(), own->at);
        Offer(i, &entry->result());
        ++reused.resumed;
        continue;
      }
    }
    // Failures are retried, not carried.
    const TaskJournal::Indexed* before = same_task(previous ? &*previous : nullptr, id, i);
    if (before == nullptr || before->failed) continue;
    carried.push_back({.task_id = std::move(id), .entry = before});
    carried_tasks.push_back(i);
  }
  if (carried.empty()) return reused;
  // Every job's journal holds (or references) all of its results.
  INGEST_ASSIGN_OR_RETURN(std::vector<JournalLocation> at, journal_->Carry(*previous, carried));
  for (size_t k = 0; k < carried.size(); ++k) {
    // What Apply reads of a successful result: pass A's record, which
    // describes the document.
    TaskResult result;
    if (info_.defines_documents) {
      INGEST_ASSIGN_OR_RETURN(TaskJournal::ResultView view, journal_->ReadView(at[k]));
      result.set_record_bytes(std::string(view.record_bytes));
    }
    Apply(carried_tasks[k], result, at[k]);
    Offer(carried_tasks[k], nullptr);
  }
  reused.carried = carried.size();
  return reused;
}

std::vector<size_t> PassExecutor::DispatchOrder() const {
  std::vector<size_t> order;
  for (size_t i = 0; i < tasks_.size(); ++i) {
    if (!settled_[i]) order.push_back(i);
  }
  // Plan order is merge order: results then land in the journal about as
  // the merge and the next pass read them, a block at a time.
  std::stable_sort(order.begin(), order.end(), [this](size_t a, size_t b) {
    const PlannedTask& x = tasks_[a];
    const PlannedTask& y = tasks_[b];
    if (*x.priority != *y.priority) return *x.priority < *y.priority;
    const bool x_heavy = x.weight >= kHeavyTaskBytes;
    const bool y_heavy = y.weight >= kHeavyTaskBytes;
    if (x_heavy != y_heavy) return x_heavy;
    return x_heavy && x.weight > y.weight;
  });
  return order;
}

Result<Task> PassExecutor::BuildTask(size_t index) {
  INGEST_ASSIGN_OR_RETURN(Task task, PlanTask(index, /*with_inputs=*/true));
  // A pass that reads an http page gets its body with the task, read only
  // now that it is sent.
  if (info_.reads_document && task.document().root().empty()) {
    const DocumentRef& ref = task.document();
    Result<std::string> body = PageStore(PageStore::DirOf(config_)).Read(ref.checksum());
    if (!body.ok()) return body.status().WithContext("page " + ref.path() + " of source " + ref.source());
    task.mutable_document()->set_content(std::move(*body));
  }
  return task;
}

Result<Task> PassExecutor::PlanTask(size_t index, bool with_inputs) {
  const PlannedTask& planned = tasks_.at(index);
  auto doc = manifest_.documents().find(planned.source_id);
  if (doc == manifest_.documents().end()) return NotFound("document " + planned.source_id + " is not in the manifest");
  auto source = sources_.find(doc->second.source());
  if (source == sources_.end()) {
    return FailedPrecondition("source '" + doc->second.source() + "' of " + doc->second.path() +
                              " is no longer configured");
  }
  Task task;
  task.set_task_id(TaskId(index));
  task.set_pass(pass_);
  DocumentRef* ref = task.mutable_document();
  ref->set_source_id(planned.source_id);
  ref->set_source(doc->second.source());
  ref->set_path(doc->second.path());
  ref->set_checksum(doc->second.checksum());
  if (source->second->kind != "http") ref->set_root(source->second->root.string());
  switch (info_.params) {
    case Task::kSplit:
      task.mutable_split()->set_split_threshold_mb(config_.passes.split_threshold_mb);
      task.mutable_split()->set_split_pages(config_.passes.split_pages);
      break;
    case Task::kChunk: {
      RecordBatch toc;
      INGEST_RETURN_IF_ERROR(ReadUpstream(Pass::PASS_A, planned.source_id, &toc));
      if (toc.toc_size() != 1) return DataLoss("pass A has no record for " + planned.source_id);
      ChunkParams* chunk = task.mutable_chunk();
      if (planned.part) *chunk->mutable_part() = *planned.part;
      *chunk->mutable_sections() = toc.toc(0).sections();
      chunk->set_format(toc.toc(0).format());
      chunk->set_chunk_chars(config_.passes.chunk_chars);
      chunk->set_overlap_chars(config_.passes.overlap_chars);
      break;
    }
    case Task::kEnrich: {
      EnrichParams* enrich = task.mutable_enrich();  // set even when the dictionary is empty
      for (const std::string& term : dictionary_) enrich->add_dictionary(term);
      break;
    }
    default:
      break;
  }
  // The digest is of the task without its records, which `inputs` stands for.
  std::string records;
  INGEST_ASSIGN_OR_RETURN(std::string inputs, InputsDigest(planned.source_id, with_inputs ? &records : nullptr));
  digests_[index] = TaskDigest(task, inputs);
  if (with_inputs) task.set_inputs(std::move(records));
  return task;
}

Result<std::string> PassExecutor::InputsDigest(const std::string& source_id, std::string* inputs) const {
  std::string digests;
  for (Pass upstream : info_.task_inputs) {
    digests += PassLetter(upstream) + ":";
    INGEST_RETURN_IF_ERROR(UpstreamRecords(upstream, source_id, inputs, &digests));
    digests += "\n";
  }
  return digests;
}

void PassExecutor::OnResult(size_t index, TaskResult result) {
  JournalEntry entry;
  entry.set_task_id(TaskId(index));
  entry.set_task_digest(digests_[index]);
  *entry.mutable_result() = std::move(result);
  Result<JournalLocation> at = journal_->Append(entry);
  if (!at.ok()) {
    // A result that cannot be committed does not count.
    TaskResult lost;
    lost.mutable_error()->set_kind("journal");
    lost.mutable_error()->set_message(at.status().message());
    Apply(index, lost, std::nullopt);
    return;
  }
  Apply(index, entry.result(), *at);
  Offer(index, &entry.result());
}

void PassExecutor::Offer(size_t index, const TaskResult* in_hand) {
  if (info_.merge != MergeKind::kConcatenate) return;  // merged when all are in
  if (!write_error_.ok()) return;
  write_error_ = WriteReady(index, in_hand);
  if (!write_error_.ok()) spdlog::warn("pass {}: {}", PassLetter(pass_), write_error_.message());
}

Status PassExecutor::WriteReady(size_t in_hand_index, const TaskResult* in_hand) {
  while (written_ < tasks_.size()) {
    // A document's tasks are consecutive in the plan; it is written once
    // every one of them has its final result.
    const std::string& source_id = tasks_[written_].source_id;
    size_t end = written_;
    for (; end < tasks_.size() && tasks_[end].source_id == source_id; ++end) {
      if (!settled_[end]) return Status::Ok();
    }
    if (!FailedInPass(source_id)) {
      if (!writer_) {
        INGEST_ASSIGN_OR_RETURN(ArtifactWriter writer, ArtifactWriter::Open(job_dir_ / ArtifactFileName(pass_), pass_));
        writer_.emplace(std::move(writer));
      }
      for (size_t i = written_; i < end; ++i) {
        INGEST_RETURN_IF_ERROR(WriteResult(i, i == in_hand_index ? in_hand : nullptr, &outcome_));
      }
    }
    written_ = end;
  }
  return Status::Ok();
}

void PassExecutor::Apply(size_t index, const TaskResult& result, std::optional<JournalLocation> at) {
  const PlannedTask& planned = tasks_.at(index);
  DocumentRecord& doc = (*manifest_.mutable_documents())[planned.source_id];
  settled_[index] = true;
  if (!result.has_error()) {
    RecordBatch records;
    if (info_.defines_documents && records.ParseFromString(result.record_bytes()) && records.toc_size() == 1) {
      const TocRecord& toc = records.toc(0);
      doc.set_checksum(toc.checksum());
      doc.set_bytes(toc.bytes());
      (*manifest_.mutable_source_sha_map())[planned.source_id] = toc.checksum();
    }
    results_[index] = at;
    return;
  }
  const std::string& kind = result.error().kind();
  const std::string& message = result.error().message();
  if (kind == kContractViolation && contract_violation_.empty()) contract_violation_ = message;
  if (doc.status() != kDocFailed) ++outcome_.documents_failed;
  doc.set_status(kDocFailed);
  doc.set_error_class(kind);
  doc.set_error(message);
  doc.set_failed_pass(PassLetter(pass_));
  std::string line = doc.path() + ": " + kind + ": " + message;
  if (outcome_.errors.size() < kMaxErrorsKept) outcome_.errors.push_back(line);
  EventFields fields{.pass = PassLetter(pass_), .status = "failed", .error = kind};
  LogEvent(spdlog::level::warn, fields,
           "document " + doc.source() + "/" + doc.path() + " failed in pass " + PassLetter(pass_) + ": " + message);
}

Result<TaskJournal::ResultView> PassExecutor::View(size_t index) const {
  if (!results_[index]) return Internal("no result for task " + TaskId(index));
  return journal_->ReadView(*results_[index]);
}

Result<RecordBatch> PassExecutor::Records(size_t index) const {
  INGEST_ASSIGN_OR_RETURN(TaskJournal::ResultView view, View(index));
  RecordBatch records;
  if (!records.ParseFromArray(view.record_bytes.data(), static_cast<int>(view.record_bytes.size()))) {
    return DataLoss(journal_->path().string() + ": unreadable records of task " + TaskId(index));
  }
  return records;
}

Status PassExecutor::WriteResult(size_t index, const TaskResult* in_hand, PassOutcome* outcome) {
  const std::string& source_id = tasks_[index].source_id;
  if (in_hand != nullptr) {
    INGEST_RETURN_IF_ERROR(writer_->AddRendered(source_id, in_hand->artifact_json(), in_hand->record_count()));
    AddTotals(in_hand->totals(), &outcome->totals);
    return Status::Ok();
  }
  // Read back from the journal as views: nothing of the entry is copied
  // but into the artifact.
  INGEST_ASSIGN_OR_RETURN(TaskJournal::ResultView view, View(index));
  Metrics totals;
  if (!totals.ParseFromArray(view.totals.data(), static_cast<int>(view.totals.size()))) {
    return DataLoss(journal_->path().string() + ": unreadable totals of task " + TaskId(index));
  }
  INGEST_RETURN_IF_ERROR(writer_->AddRendered(source_id, view.artifact_json, view.record_count));
  AddTotals(totals, &outcome->totals);
  return Status::Ok();
}

Status PassExecutor::MergeDocuments(PassOutcome* outcome) {
  for (size_t i = 0; i < tasks_.size(); ++i) {
    const std::string& source_id = tasks_[i].source_id;
    if (FailedInPass(source_id)) continue;
    INGEST_RETURN_IF_ERROR(WriteResult(i, nullptr, outcome));
  }
  return Status::Ok();
}

Status PassExecutor::MergeGraph(PassOutcome* outcome) {
  // Entity nodes are shared by documents: one of each id, written first
  // (their source_id "" sorts first), then each document's own records.
  // Their ids and lines are copied once into blocks that never move, and
  // found by views: a map of messages cost several allocations an entity.
  std::vector<std::unique_ptr<char[]>> blocks;
  size_t block_size = 0;
  size_t block_used = 0;
  const auto keep = [&](std::string_view bytes) {
    if (blocks.empty() || block_used + bytes.size() > block_size) {
      block_size = std::max(bytes.size(), kEntityBlockBytes);
      blocks.push_back(std::make_unique<char[]>(block_size));
      block_used = 0;
    }
    char* start = blocks.back().get() + block_used;
    std::memcpy(start, bytes.data(), bytes.size());
    block_used += bytes.size();
    return std::string_view(start, bytes.size());
  };
  std::unordered_map<std::string_view, std::string_view> shared;  // id -> line
  for (size_t i = 0; i < tasks_.size(); ++i) {
    if (FailedInPass(tasks_[i].source_id)) continue;
    INGEST_ASSIGN_OR_RETURN(TaskJournal::ResultView view, View(i));
    for (std::string_view bytes : view.shared) {
      SharedRecord record;
      if (!record.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
        return DataLoss(journal_->path().string() + ": unreadable shared record of task " + TaskId(i));
      }
      if (shared.contains(record.key())) continue;
      shared.emplace(keep(record.key()), keep(record.json()));
      AddTotals(record.totals(), &outcome->totals);
    }
  }
  std::vector<std::pair<std::string_view, std::string_view>> sorted(shared.begin(), shared.end());
  shared = {};
  std::sort(sorted.begin(), sorted.end());
  for (const auto& [key, line] : sorted) {
    INGEST_RETURN_IF_ERROR(writer_->AddRendered("", line, 1));
    shared_keys_.emplace_back(key);
  }
  return MergeDocuments(outcome);
}

Status PassExecutor::MergeCleanup(PassOutcome* outcome) {
  CleanupRecord cleanup;
  uint32_t edges = 0;
  INGEST_ASSIGN_OR_RETURN(const std::vector<std::string> entity_ids, EntityIds());
  // Duplicates in two rounds, so memory holds eight bytes per chunk and not
  // its hash and id: first every chunk's hash, hashed again to 64 bits;
  // then the ids of the chunks whose 64 bits came up more than once.
  std::vector<uint64_t> hashed;
  const auto hash64 = [](const std::string& text_hash) { return std::hash<std::string_view>{}(text_hash); };
  for (size_t i = 0; i < tasks_.size(); ++i) {
    if (FailedInPass(tasks_[i].source_id)) continue;
    INGEST_ASSIGN_OR_RETURN(RecordBatch batch, Records(i));
    cleanup.set_documents_checked(cleanup.documents_checked() + 1);
    for (const ChunkDigest& d : batch.digests()) hashed.push_back(hash64(d.text_hash()));
    cleanup.set_chunks_checked(cleanup.chunks_checked() + static_cast<uint32_t>(batch.digests_size()));
    for (const std::string& e : batch.integrity_errors()) cleanup.add_integrity_errors(e);
    edges += static_cast<uint32_t>(batch.edges_checked());
    // Mentions point at corpus-wide entity nodes, which only the merged graph holds.
    for (const std::string& entity : batch.mentioned_entities()) {
      if (!std::binary_search(entity_ids.begin(), entity_ids.end(), entity)) {
        cleanup.add_integrity_errors("mentions edge to unknown entity " + entity);
      }
    }
  }
  cleanup.set_edges_checked(edges);
  std::sort(hashed.begin(), hashed.end());
  std::vector<uint64_t> repeated;
  for (size_t k = 1; k < hashed.size(); ++k) {
    if (hashed[k] == hashed[k - 1] && (repeated.empty() || repeated.back() != hashed[k])) repeated.push_back(hashed[k]);
  }
  hashed = {};
  std::map<std::string, std::vector<std::string>> by_hash;  // only chunks that may be duplicates
  for (size_t i = 0; i < tasks_.size() && !repeated.empty(); ++i) {
    if (FailedInPass(tasks_[i].source_id)) continue;
    INGEST_ASSIGN_OR_RETURN(RecordBatch batch, Records(i));
    for (const ChunkDigest& d : batch.digests()) {
      if (std::binary_search(repeated.begin(), repeated.end(), hash64(d.text_hash()))) {
        by_hash[d.text_hash()].push_back(d.chunk_id());
      }
    }
  }
  for (auto& [hash, ids] : by_hash) {
    if (ids.size() < 2) continue;
    DuplicateGroup* group = cleanup.add_duplicates();
    group->set_text_hash(hash);
    std::sort(ids.begin(), ids.end());
    for (const std::string& id : ids) group->add_chunk_ids(id);
  }
  for (const std::string& e : cleanup.integrity_errors()) {
    if (outcome->errors.size() < kMaxErrorsKept) outcome->errors.push_back("integrity: " + e);
  }
  cleanup.set_stale_deleted(stale_deleted_);
  INGEST_RETURN_IF_ERROR(writer_->Add(cleanup));
  info_.tally(cleanup, &outcome->totals);
  return Status::Ok();
}

Result<std::vector<std::string>> PassExecutor::EntityIds() const {
  if (auto results = upstream_results_.find(Pass::PASS_E); results != upstream_results_.end()) {
    return results->second.shared_keys();
  }
  std::vector<std::string> ids;
  RecordBatch shared;
  INGEST_RETURN_IF_ERROR(ReadUpstream(Pass::PASS_E, "", &shared));
  for (const GraphRecord& g : shared.graph()) ids.push_back(g.node().id());
  std::sort(ids.begin(), ids.end());
  return ids;
}

Result<PassOutcome> PassExecutor::Merge() {
  if (!contract_violation_.empty()) {
    return InvalidArgument("contract invalid: " + contract_violation_);
  }
  // Every result the artifact is built from is durable before it exists:
  // synced while the merge goes on, waited for before the commit.
  INGEST_RETURN_IF_ERROR(journal_->StartSync());
  INGEST_RETURN_IF_ERROR(write_error_);
  if (!writer_) {
    INGEST_ASSIGN_OR_RETURN(ArtifactWriter writer, ArtifactWriter::Open(job_dir_ / ArtifactFileName(pass_), pass_));
    writer_.emplace(std::move(writer));
  }
  PassOutcome outcome = outcome_;
  switch (info_.merge) {
    case MergeKind::kConcatenate:
      // Written while the pass ran: what is left, if anything.
      INGEST_RETURN_IF_ERROR(WriteReady());
      if (written_ != tasks_.size()) return Internal("task " + TaskId(written_) + " has no final result");
      outcome.totals = outcome_.totals;
      break;
    case MergeKind::kGraph:
      INGEST_RETURN_IF_ERROR(MergeGraph(&outcome));
      break;
    case MergeKind::kCleanup:
      INGEST_RETURN_IF_ERROR(MergeCleanup(&outcome));
      break;
  }
  INGEST_RETURN_IF_ERROR(journal_->Sync());
  INGEST_ASSIGN_OR_RETURN(outcome.artifact, writer_->Commit());
  // No read-back: each record was validated before it was rendered (by the
  // worker that made it), and the hash and index are of the bytes as
  // written (see README, "Where records are validated").
  outcome.scan = writer_->TakeScan();
  outcome.results.emplace(journal_, std::move(shared_keys_));
  for (size_t i = 0; i < tasks_.size(); ++i) {  // in plan order: by source_id, parts in order
    if (results_[i] && !FailedInPass(tasks_[i].source_id))
      outcome.results->Add(tasks_[i].source_id, *results_[i], digests_[i]);
  }
  return outcome;
}

}  // namespace ingest
