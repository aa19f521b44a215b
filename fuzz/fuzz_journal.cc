// The task journal: what a coordinator killed mid-pass finds on --resume,
// and what carry-forward reads from the previous job. Two kinds of input:
//  - the bytes of a journal file (torn tails, damaged frames, lengths that
//    lie), opened as --resume opens it, then every indexed entry read back;
//  - entries (length-prefixed JournalEntry messages), appended through the
//    journal, read back read-only: what was appended is what is read, and
//    the records walk (ReadRecords) copes with whatever a result holds.

#include <cstring>
#include <string>
#include <vector>

#include "coordinator/pass/task_journal.h"
#include "fuzz/fuzz_scratch.h"

namespace ingest::fuzz {
namespace {

void ReadEveryEntry(const TaskJournal& journal) {
  for (const auto& [task_id, indexed] : journal.entries()) {
    Result<JournalEntry> entry = journal.Read(indexed.at);
    if (entry.ok()) Require(entry->task_id() == task_id);
    std::string records;
    uint32_t count = 0;
    (void)journal.ReadRecords(indexed.at, &records, &count);
    // The merge's view of an entry finds what parsing finds.
    Result<TaskJournal::ResultView> view = journal.ReadView(indexed.at);
    if (view.ok() && entry.ok()) {
      const TaskResult& result = entry->result();
      Require(view->has_error == result.has_error());
      Require(view->record_bytes == result.record_bytes());
      Require(view->artifact_json == result.artifact_json());
      Require(view->record_count == result.record_count());
      Require(view->shared.size() == static_cast<size_t>(result.shared_size()));
    }
  }
}

void FileBytes(std::string_view bytes) {
  Result<TaskJournal> journal = TaskJournal::Open(WriteScratch("pass.journal", bytes));
  if (journal.ok()) ReadEveryEntry(*journal);
}

void Entries(std::string_view input) {
  const std::filesystem::path path = WriteScratch("appended.journal", "");
  std::vector<JournalEntry> appended;
  {
    Result<TaskJournal> journal = TaskJournal::Open(path, /*fresh=*/true);
    Require(journal.ok());
    while (input.size() >= 2) {
      uint16_t length = 0;
      std::memcpy(&length, input.data(), 2);
      input.remove_prefix(2);
      const std::string_view payload = input.substr(0, length);
      input.remove_prefix(payload.size());
      JournalEntry entry;
      if (!entry.ParseFromArray(payload.data(), static_cast<int>(payload.size()))) continue;
      // References and segment declarations are the journal's own.
      if (entry.has_ref() || entry.has_segment()) {
        Require(journal->Append(entry).status().code() == StatusCode::kInvalidArgument);
        continue;
      }
      Require(journal->Append(entry).ok());
      appended.push_back(std::move(entry));
    }
    Require(journal->Sync().ok());
  }
  Result<TaskJournal> reread = TaskJournal::OpenReadOnly(path);
  Require(reread.ok());
  Require(reread->discarded_bytes() == 0);
  // The index keeps the last entry of each task id.
  for (const JournalEntry& entry : appended) Require(reread->Earlier(entry.task_id()).has_value());
  ReadEveryEntry(*reread);
}

}  // namespace
}  // namespace ingest::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const std::string_view rest = ingest::fuzz::AsText(data + 1, size - 1);
  if (data[0] % 2 == 0) {
    ingest::fuzz::FileBytes(rest);
  } else {
    ingest::fuzz::Entries(rest);
  }
  return 0;
}
