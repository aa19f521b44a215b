#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/sorted_ids.h"
#include "common/status.h"
#include "coordinator/pass/task_journal.h"
#include "proto/fleet.pb.h"

namespace ingest {

// The results a pass's artifact was merged from, where its journal holds
// them: what later passes give their tasks (a document's records, as the
// workers serialized them) and how those tasks' digests name their inputs
// (the digests of the tasks that made the records, so that deciding whether
// a result can be reused reads no record). Replaces reading the artifact's
// JSON back. Copies share the open journal; const methods only, so
// thread-compatible.
class PassResults {
 public:
  // Results in `journal`, added with Add, and the keys of the pass's
  // corpus-wide records (pass E's entity node ids).
  using Located = TaskJournal::Indexed;
  explicit PassResults(std::shared_ptr<const TaskJournal> journal, std::vector<std::string> shared_keys = {});
  // The next result: of the same document as the last one (its next part)
  // or of one that sorts after it.
  void Add(std::string_view source_id, JournalLocation at, std::string_view digest);

  // The results of `pass` in the journal an earlier run left at `path`,
  // found by their task ids ("C-doc_0123456789abcdef-2"; the last entry of
  // each id is the one its artifact was merged from). NotFound when there
  // is no journal.
  static Result<PassResults> Open(const std::filesystem::path& path, Pass pass);

  // Appends the serialized records of `source_id` to `records` (optional;
  // concatenated RecordBatch bytes parse as their merge), the digests of the
  // tasks that made them to `digests` (optional; read from no entry) and
  // their number to `count` (with `records` only). Nothing for a document
  // without results. DataLoss when an entry is damaged or is an error.
  Status Append(const std::string& source_id, std::string* records, std::string* digests = nullptr,
                uint32_t* count = nullptr) const;

  // Keys of the corpus-wide records, sorted.
  const std::vector<std::string>& shared_keys() const { return shared_keys_; }

 private:
  // A later pass reads these for every document, and a run holds several
  // passes' at once: packed, about 110 bytes a document, not a map node with
  // a vector and strings (about 260).
  struct Document {
    uint32_t first = 0;  // of its results, in at_
    uint32_t count = 0;
  };

  std::shared_ptr<const TaskJournal> journal_;
  SortedIds ids_;                      // of the documents
  std::vector<Document> documents_;    // of ids_, position for position
  std::vector<JournalLocation> at_;    // results, by document, parts in order
  std::string digests_;                // their task digests, packed
  std::vector<uint32_t> digest_ends_;  // where each ends in digests_
  std::vector<std::string> shared_keys_;
};

// The task id of the task of `pass` over `part` of document `source_id`.
std::string MakeTaskId(Pass pass, const std::string& source_id, uint32_t part = 0);

}  // namespace ingest
