#pragma once

#include <cstdint>
#include <filesystem>
#include <future>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "common/artifact.h"
#include "common/config.h"
#include "common/pass.h"
#include "coordinator/fleet/task_handler.h"
#include "coordinator/pass/pass_results.h"
#include "coordinator/pass/task_journal.h"
#include "proto/manifest.pb.h"

namespace ingest {

// What a pass produced besides its artifact, for the manifest and summary.
struct PassOutcome {
  ArtifactRecord artifact;
  uint32_t documents_failed = 0;
  std::vector<std::string> errors;  // "doc path: kind: message", capped
  // The job totals the artifact sets (PassInfo::totals).
  Metrics totals;
  // The artifact's index as written, and the results it was merged from.
  ArtifactScan scan;
  std::optional<PassResults> results;
};

// Plans one pass into tasks, turns each into a Task for the fleet, commits
// results to the pass's journal {job}/journal/pass{X}.journal and merges them
// in (source_id, part) order into the artifact, so memory stays bounded by
// one task's records (plus the corpus-wide entity and duplicate sets of E and
// F). Workers send their results sealed (common/result_seal.h): validated,
// serialized and rendered as the artifact's JSON, which the merge writes as
// it is, so the coordinator neither parses nor prints a record on its way
// into the artifact. Results a killed run, or the previous job, committed for
// the very same tasks are reused.
// Marks documents whose task failed as failed in the manifest; they are left
// out of this artifact and of every later pass. Single-threaded.
class PassExecutor : public TaskHandler {
 public:
  // `results` holds the results the upstream artifacts were merged from,
  // where their journals are; an upstream pass without them is read from
  // its artifact.
  PassExecutor(Pass pass, const Config& config, Manifest& manifest, std::filesystem::path job_dir,
               std::map<Pass, ArtifactScan> upstream, const std::map<Pass, PassResults>& results);

  // Where results that need not be computed again may come from.
  struct Reuse {
    // This job's journal from an interrupted run; false empties it (an
    // explicit rerun of the pass).
    bool own_journal = true;
    // The same pass's journal in the job unchanged documents are carried
    // forward from; empty for none.
    std::filesystem::path previous_journal;
    // That journal being opened already (PassLoop starts it while the pass
    // before runs); invalid to have ReuseCommitted open it.
    std::future<Result<TaskJournal>> opening;
  };
  void set_reuse(Reuse reuse) { reuse_ = std::move(reuse); }
  // The job directories retention deletes at the end of the run: the one
  // figure of pass F's record its tasks do not give.
  void set_stale_deleted(uint32_t count) { stale_deleted_ = count; }

  Status Plan();
  size_t task_count() const { return tasks_.size(); }
  // Documents whose task failed so far.
  uint32_t documents_failed() const { return outcome_.documents_failed; }
  // Makes every committed result durable (a cancelled pass keeps them for
  // --resume).
  Status SyncJournal() { return journal_->Sync(); }
  // The first result whose records broke the pass's contract; the merge
  // then fails the pass.
  const std::string& contract_violation() const { return contract_violation_; }

  // Takes over the results an earlier, interrupted run of this pass
  // committed, and the previous job's results, for identical tasks (same
  // digest: same document content, part, upstream inputs and release).
  struct Reused {
    size_t resumed = 0;  // from this job's journal
    size_t carried = 0;  // from the previous job's
  };
  Result<Reused> ReuseCommitted();
  // The tasks still without a result, in dispatch order: sources by
  // priority (P0 first); within one, documents (or parts) of 1 MiB or more
  // first, largest first, so the longest tasks do not form the tail; then
  // the others in merge order. Merge order is unaffected.
  std::vector<size_t> DispatchOrder() const;

  Result<Task> BuildTask(size_t index) override;
  void OnResult(size_t index, TaskResult result) override;
  uint64_t Weight(size_t index) const override { return tasks_[index].weight; }

  // Writes and commits the artifact from the sealed results. The journal
  // stays: later passes read it, and the next job carries it forward.
  Result<PassOutcome> Merge();

 private:
  // Kept for every task of the pass, so no more than it needs: the task id
  // is made when needed (TaskId), the priority points into the config.
  struct PlannedTask {
    std::string source_id;
    std::unique_ptr<SplitRecord> part;  // pass C only
    const std::string* priority;        // of the document's source
    uint64_t weight = 0;                // bytes of the document or part
  };

  void AddTask(const std::string& source_id, std::unique_ptr<SplitRecord> part = nullptr);
  std::string TaskId(size_t index) const;
  // The task as BuildTask sends it, without an http page's body (its
  // checksum stands for it) and, unless `with_inputs`, without its upstream
  // records (their digests stand for them), and its digest: enough to decide
  // reuse.
  Result<Task> PlanTask(size_t index, bool with_inputs = false);
  // What names the upstream records a task of `source_id` is given in its
  // digest (the digests of the tasks that made them); with `inputs`, those
  // records serialized, as the task carries them.
  Result<std::string> InputsDigest(const std::string& source_id, std::string* inputs) const;
  // The serialized records `source_id` got from `upstream` appended to
  // `records`, and what names them in a digest to `digest` (optional).
  Status UpstreamRecords(Pass upstream, const std::string& source_id, std::string* records, std::string* digest) const;
  // Documents with records in the planning pass's artifact (the manifest's
  // for pass A) that have not failed, in source_id order.
  std::vector<std::string> PlannableDocuments() const;
  // Says so when `journal` left out results it references.
  void WarnOfDroppedReferences(const TaskJournal& journal) const;
  // Pass D's dictionary: pass A's terms of every document, sorted, capped.
  Status CollectDictionary();
  bool DocumentFailed(const std::string& source_id) const;
  // DocumentFailed for a document this pass planned.
  bool FailedInPass(const std::string& source_id) const;
  Status ReadUpstream(Pass upstream, const std::string& source_id, RecordBatch* batch) const;
  // Records the final result of a task: the manifest's view of its document,
  // and where its records are for the merge.
  void Apply(size_t index, const TaskResult& result, std::optional<JournalLocation> at);
  // The successful result of the task at `index`, read from the journal.
  Result<TaskJournal::ResultView> View(size_t index) const;
  // The records of a task's result, parsed (pass F's checks).
  Result<RecordBatch> Records(size_t index) const;
  // Writes the records of the result of the task at `index` (sealed: as
  // the artifact's JSON) and adds their totals: from `in_hand` when given,
  // else read back from the journal.
  Status WriteResult(size_t index, const TaskResult* in_hand, PassOutcome* outcome);
  // The final result of the task at `index` (applied already), `in_hand`
  // when the caller has it: a concatenating pass writes, in merge order,
  // every document whose tasks all have one, so its artifact is written
  // while the pass runs and its merge has little left to do. Results that
  // wait for an earlier document are not kept: their turn reads them back
  // from the journal, without parsing them, so memory stays flat.
  void Offer(size_t index, const TaskResult* in_hand);
  Status WriteReady(size_t in_hand_index = SIZE_MAX, const TaskResult* in_hand = nullptr);
  Status MergeDocuments(PassOutcome* outcome);
  Status MergeGraph(PassOutcome* outcome);
  Status MergeCleanup(PassOutcome* outcome);
  // Ids of pass E's entity nodes, sorted: those its journal keeps, else
  // those its artifact holds.
  Result<std::vector<std::string>> EntityIds() const;

  Pass pass_;
  const PassInfo& info_;
  const Config& config_;
  Manifest& manifest_;
  std::filesystem::path job_dir_;
  std::filesystem::path work_dir_;
  // Opened by Plan(); shared with the PassResults of Merge().
  std::shared_ptr<TaskJournal> journal_;
  Reuse reuse_;
  std::map<Pass, ArtifactScan> upstream_;
  const std::map<Pass, PassResults>& upstream_results_;
  std::optional<ArtifactWriter> writer_;                // during Merge()
  std::map<std::string, const SourceConfig*> sources_;  // by name
  std::string contract_violation_;
  // Writing while the pass runs (Offer): tasks before written_ are in the
  // artifact (or their document failed).
  size_t written_ = 0;
  Status write_error_;
  std::vector<std::string> shared_keys_;  // of the corpus-wide records Merge() wrote
  std::vector<PlannedTask> tasks_;
  std::vector<std::string> digests_;                     // of each task as PlanTask builds it
  std::vector<std::optional<JournalLocation>> results_;  // successful results
  std::vector<bool> settled_;                            // has a final result
  std::vector<std::string> dictionary_;                  // pass D
  uint32_t stale_deleted_ = 0;                           // pass F
  PassOutcome outcome_;
};

}  // namespace ingest
