#include "coordinator/pass/pass_results.h"

#include <algorithm>
#include <charconv>
#include <set>

#include "common/pass.h"

namespace ingest {

std::string MakeTaskId(Pass pass, const std::string& source_id, uint32_t part) {
  return PassLetter(pass) + "-" + source_id + "-" + std::to_string(part);
}

PassResults::PassResults(std::shared_ptr<const TaskJournal> journal,
                         std::map<std::string, std::vector<Located>> by_document, std::vector<std::string> shared_keys)
    : journal_(std::move(journal)), by_document_(std::move(by_document)), shared_keys_(std::move(shared_keys)) {}

Result<PassResults> PassResults::Open(const std::filesystem::path& path, Pass pass) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) return NotFound(path.string() + ": no journal");
  INGEST_ASSIGN_OR_RETURN(TaskJournal opened, TaskJournal::OpenReadOnly(path));
  auto journal = std::make_shared<const TaskJournal>(std::move(opened));
  // "X-<source_id>-<part>": grouped by document, parts in number order.
  const std::string prefix = PassLetter(pass) + "-";
  std::map<std::string, std::vector<std::pair<uint32_t, const Located*>>> parts;
  for (const auto& [id, located] : journal->entries()) {
    const size_t dash = id.rfind('-');
    uint32_t part = 0;
    if (!id.starts_with(prefix) || dash <= prefix.size() ||
        std::from_chars(id.data() + dash + 1, id.data() + id.size(), part).ec != std::errc()) {
      continue;  // not a task of this pass
    }
    parts[id.substr(prefix.size(), dash - prefix.size())].emplace_back(part, &located);
  }
  std::map<std::string, std::vector<Located>> by_document;
  std::set<std::string> keys;
  for (auto& [source_id, located] : parts) {
    std::sort(located.begin(), located.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
    std::vector<Located>& results = by_document[source_id];
    for (const auto& [part, one] : located) results.push_back(*one);
    if (Describe(pass).shared_key == nullptr) continue;
    // Corpus-wide records are kept in the results that made them.
    for (const Located& one : results) {
      INGEST_ASSIGN_OR_RETURN(JournalEntry entry, journal->Read(one.at));
      for (const SharedRecord& shared : entry.result().shared()) keys.insert(shared.key());
    }
  }
  return PassResults(std::move(journal), std::move(by_document), std::vector<std::string>(keys.begin(), keys.end()));
}

Status PassResults::Append(const std::string& source_id, std::string* records, std::string* digests,
                           uint32_t* count) const {
  auto it = by_document_.find(source_id);
  if (it == by_document_.end()) return Status::Ok();
  for (const Located& one : it->second) {
    if (digests != nullptr) {
      if (!digests->empty()) digests->push_back(',');
      digests->append(one.digest);
    }
    if (records == nullptr) continue;
    uint32_t unused = 0;
    INGEST_RETURN_IF_ERROR(journal_->ReadRecords(one.at, records, count != nullptr ? count : &unused));
  }
  return Status::Ok();
}

}  // namespace ingest
