#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

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
  // Each document's results in `journal` (in part order) with their task
  // digests, and the keys of the pass's corpus-wide records (pass E's entity
  // node ids).
  using Located = TaskJournal::Indexed;
  PassResults(std::shared_ptr<const TaskJournal> journal, std::map<std::string, std::vector<Located>> by_document,
              std::vector<std::string> shared_keys);

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
  std::shared_ptr<const TaskJournal> journal_;
  std::map<std::string, std::vector<Located>> by_document_;
  std::vector<std::string> shared_keys_;
};

// The task id of the task of `pass` over `part` of document `source_id`.
std::string MakeTaskId(Pass pass, const std::string& source_id, uint32_t part = 0);

}  // namespace ingest
