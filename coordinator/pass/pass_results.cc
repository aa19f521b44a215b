#include "coordinator/pass/pass_results.h"

#include <algorithm>
#include <charconv>
#include <set>

#include "common/pass.h"

namespace ingest {

std::string MakeTaskId(Pass pass, const std::string& source_id, uint32_t part) {
  return PassLetter(pass) + "-" + source_id + "-" + std::to_string(part);
}

PassResults::PassResults(std::shared_ptr<const TaskJournal> journal, std::vector<std::string> shared_keys)
    : journal_(std::move(journal)), shared_keys_(std::move(shared_keys)) {}

void PassResults::Add(std::string_view source_id, JournalLocation at, std::string_view digest) {
  if (ids_.Extend(source_id) == documents_.size()) {
    documents_.push_back({.first = static_cast<uint32_t>(at_.size())});
  }
  ++documents_.back().count;
  at_.push_back(at);
  digests_.append(digest);
  digest_ends_.push_back(static_cast<uint32_t>(digests_.size()));
}

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
  std::set<std::string> keys;
  PassResults results(journal);
  for (auto& [source_id, located] : parts) {
    std::sort(located.begin(), located.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
    for (const auto& [part, one] : located) results.Add(source_id, one->at, one->digest);
    if (Describe(pass).shared_key == nullptr) continue;
    // Corpus-wide records are kept in the results that made them.
    for (const auto& [part, one] : located) {
      INGEST_ASSIGN_OR_RETURN(TaskJournal::ResultView view, journal->ReadView(one->at));
      for (std::string_view bytes : view.shared) {
        SharedRecord shared;
        if (!shared.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
          return DataLoss(path.string() + ": unreadable shared record of " + source_id);
        }
        keys.insert(shared.key());
      }
    }
  }
  results.shared_keys_.assign(keys.begin(), keys.end());
  return results;
}

Status PassResults::Append(const std::string& source_id, std::string* records, std::string* digests,
                           uint32_t* count) const {
  const std::optional<size_t> found = ids_.Find(source_id);
  if (!found) return Status::Ok();
  const Document* document = &documents_[*found];
  for (uint32_t i = document->first; i < document->first + document->count; ++i) {
    if (digests != nullptr) {
      if (!digests->empty()) digests->push_back(',');
      const uint32_t start = i == 0 ? 0 : digest_ends_[i - 1];
      digests->append(std::string_view(digests_).substr(start, digest_ends_[i] - start));
    }
    if (records == nullptr) continue;
    uint32_t unused = 0;
    INGEST_RETURN_IF_ERROR(journal_->ReadRecords(at_[i], records, count != nullptr ? count : &unused));
  }
  return Status::Ok();
}

}  // namespace ingest
