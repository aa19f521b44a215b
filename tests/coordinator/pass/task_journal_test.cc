#include "coordinator/pass/task_journal.h"

#include <unistd.h>

#include <fstream>

#include "common/atomic_file.h"
#include "tests/testing/testing.h"

namespace ingest {
namespace {

using testing::TempDir;

JournalEntry Entry(const std::string& task_id, const std::string& text) {
  JournalEntry entry;
  entry.set_task_id(task_id);
  entry.set_task_digest(std::string("digest-").append(task_id));
  ChunkRecord* chunk = entry.mutable_result()->mutable_records()->add_chunks();
  chunk->set_source_id("doc_1");
  chunk->set_text(text);
  return entry;
}

class TaskJournalTest : public ::testing::Test {
 protected:
  TempDir dir_;
  std::filesystem::path path_ = dir_.path() / "passC.journal";

  // Appends entries t0..t{n-1} in a journal of a "killed" run.
  void WriteEntries(int n) {
    Result<TaskJournal> journal = TaskJournal::Open(path_);
    ASSERT_OK(journal);
    for (int i = 0; i < n; ++i) {
      std::string id = "t";
      id += std::to_string(i);  // not "t" + ...: GCC 12 -Wrestrict false positive at -O3
      ASSERT_OK(journal->Append(Entry(id, std::string(100, static_cast<char>('a' + i)))));
    }
  }
};

TEST_F(TaskJournalTest, EntriesOfAnEarlierRunAreFoundAndReadBack) {
  WriteEntries(3);
  Result<TaskJournal> journal = TaskJournal::Open(path_);
  ASSERT_OK(journal);
  EXPECT_EQ(journal->earlier_entries(), 3u);
  EXPECT_EQ(journal->discarded_bytes(), 0u);
  std::optional<JournalLocation> at = journal->Earlier("t1");
  ASSERT_TRUE(at.has_value());
  Result<JournalEntry> entry = journal->Read(*at);
  ASSERT_OK(entry);
  EXPECT_EQ(entry->task_digest(), "digest-t1");
  EXPECT_EQ(entry->result().records().chunks(0).text(), std::string(100, 'b'));
  EXPECT_FALSE(journal->Earlier("t9").has_value());
}

TEST_F(TaskJournalTest, AHalfWrittenTailIsCutOffAndAppendsContinueAfterTheLastGoodEntry) {
  WriteEntries(3);
  const auto full = std::filesystem::file_size(path_);
  std::filesystem::resize_file(path_, full - 7);  // the process died inside the last write
  {
    Result<TaskJournal> journal = TaskJournal::Open(path_);
    ASSERT_OK(journal);
    EXPECT_EQ(journal->earlier_entries(), 2u);
    EXPECT_FALSE(journal->Earlier("t2").has_value());
    EXPECT_GT(journal->discarded_bytes(), 0u);
    ASSERT_OK(journal->Append(Entry("t2", "again")));
  }
  Result<TaskJournal> reopened = TaskJournal::Open(path_);
  ASSERT_OK(reopened);
  EXPECT_EQ(reopened->earlier_entries(), 3u);
  EXPECT_EQ(reopened->discarded_bytes(), 0u);
  Result<JournalEntry> entry = reopened->Read(*reopened->Earlier("t2"));
  ASSERT_OK(entry);
  EXPECT_EQ(entry->result().records().chunks(0).text(), "again");
}

TEST_F(TaskJournalTest, ADamagedEntryAndEverythingAfterItAreNotTrusted) {
  WriteEntries(3);
  JournalLocation second;
  {
    Result<TaskJournal> journal = TaskJournal::Open(path_);
    ASSERT_OK(journal);
    second = *journal->Earlier("t1");
  }
  {
    std::fstream file(path_, std::ios::in | std::ios::out | std::ios::binary);
    file.seekp(static_cast<std::streamoff>(second.offset + second.size - 10));
    file.put('Z');  // inside t1's text: still parses, but the checksum differs
  }
  {
    // Read-only (a previous job's journal, mapped): the same entries trusted,
    // and the file left as it is.
    const std::string before = testing::ReadAll(path_);
    Result<TaskJournal> previous = TaskJournal::OpenReadOnly(path_);
    ASSERT_OK(previous);
    EXPECT_EQ(previous->earlier_entries(), 1u);
    EXPECT_FALSE(previous->Earlier("t1").has_value());
    Result<JournalEntry> first = previous->Read(*previous->Earlier("t0"));
    ASSERT_OK(first);
    EXPECT_EQ(first->task_id(), "t0");
    EXPECT_GT(previous->discarded_bytes(), 0u);
    EXPECT_EQ(testing::ReadAll(path_), before);
  }
  Result<TaskJournal> journal = TaskJournal::Open(path_);
  ASSERT_OK(journal);
  EXPECT_EQ(journal->earlier_entries(), 1u);
  EXPECT_TRUE(journal->Earlier("t0").has_value());
  EXPECT_FALSE(journal->Earlier("t1").has_value());
  EXPECT_FALSE(journal->Earlier("t2").has_value());
}

TEST_F(TaskJournalTest, AFileWithoutTheJournalHeaderIsStartedOver) {
  std::ofstream(path_) << "not a journal at all";
  Result<TaskJournal> journal = TaskJournal::Open(path_);
  ASSERT_OK(journal);
  EXPECT_EQ(journal->earlier_entries(), 0u);
  EXPECT_GT(journal->discarded_bytes(), 0u);
  ASSERT_OK(journal->Append(Entry("t0", "fresh")));
}

// A carried-forward journal is a hard link to the previous job's.
TEST_F(TaskJournalTest, AppendsToALinkedJournalLeaveTheOtherJobsCopyAsItWas) {
  WriteEntries(2);
  const auto previous = dir_.path() / "previous.journal";
  ASSERT_OK(LinkOrCopyFileAtomic(path_, previous));
  const std::string before = testing::ReadAll(previous);
  {
    Result<TaskJournal> journal = TaskJournal::Open(path_);
    ASSERT_OK(journal);
    EXPECT_EQ(journal->earlier_entries(), 2u);
    ASSERT_OK(journal->Append(Entry("t9", "new")));
  }
  EXPECT_EQ(testing::ReadAll(previous), before);
  ASSERT_OK(LinkOrCopyFileAtomic(previous, path_));
  ASSERT_OK(TaskJournal::Open(path_, /*fresh=*/true));
  EXPECT_EQ(testing::ReadAll(previous), before);
  Result<TaskJournal> old = TaskJournal::OpenReadOnly(previous);
  ASSERT_OK(old);
  EXPECT_EQ(old->earlier_entries(), 2u);
}

TEST_F(TaskJournalTest, AnEmptyJournalOpensReadOnlyWithNoEntries) {
  std::ofstream(path_).close();
  Result<TaskJournal> journal = TaskJournal::OpenReadOnly(path_);
  ASSERT_OK(journal);
  EXPECT_EQ(journal->earlier_entries(), 0u);
}

TEST_F(TaskJournalTest, RemoveDeletesTheFile) {
  Result<TaskJournal> journal = TaskJournal::Open(path_);
  ASSERT_OK(journal);
  journal->Remove();
  EXPECT_FALSE(std::filesystem::exists(path_));
}

TEST(TaskDigestTest, IgnoresTheAttemptButNotTheInputs) {
  Task task;
  task.set_task_id("C-doc_1-0");
  task.mutable_document()->set_path("a.md");
  task.set_attempt(1);
  const std::string first = TaskDigest(task);
  task.set_attempt(4);
  EXPECT_EQ(TaskDigest(task), first);
  task.mutable_document()->set_path("b.md");
  EXPECT_NE(TaskDigest(task), first);
}

TEST_F(TaskJournalTest, AJournalOfManyMegabytesIsIndexedWholeAndItsTornTailCut) {
  // Entries of ~4 KB, so the index reads across many of its blocks and entries straddle their edges.
  {
    Result<TaskJournal> journal = TaskJournal::Open(path_);
    ASSERT_OK(journal);
    for (int i = 0; i < 1500; ++i) {
      std::string id = "t";
      id += std::to_string(i);
      ASSERT_OK(journal->Append(Entry(id, std::string(4000 + i, static_cast<char>('a' + i % 26)))));
    }
    ASSERT_OK(journal->Append(Entry("", "an entry without a task id is indexed too")));
    ASSERT_OK(journal->Append(Entry("torn", "the process died inside this write")));
  }
  ASSERT_GT(std::filesystem::file_size(path_), 5u << 20);
  std::filesystem::resize_file(path_, std::filesystem::file_size(path_) - 3);
  Result<TaskJournal> journal = TaskJournal::Open(path_);
  ASSERT_OK(journal);
  EXPECT_EQ(journal->earlier_entries(), 1501u);
  EXPECT_TRUE(journal->Earlier("").has_value());
  EXPECT_FALSE(journal->Earlier("torn").has_value());
  EXPECT_GT(journal->discarded_bytes(), 0u);
  Result<JournalEntry> last = journal->Read(*journal->Earlier("t1499"));
  ASSERT_OK(last);
  EXPECT_EQ(last->result().records().chunks(0).text(), std::string(5499, static_cast<char>('a' + 1499 % 26)));
}

TEST_F(TaskJournalTest, ACarriedEntryIsStoredAsTheBytesItWasRead) {
  WriteEntries(3);
  Result<TaskJournal> previous = TaskJournal::OpenReadOnly(path_);
  ASSERT_OK(previous);
  Result<JournalEntry> parsed = previous->Read(*previous->Earlier("t1"));
  ASSERT_OK(parsed);
  Result<TaskJournal::ResultView> carried = previous->ReadView(*previous->Earlier("t1"));
  ASSERT_OK(carried);
  const std::string frame(carried->frame);
  const std::filesystem::path next = dir_.path() / "next.journal";
  {
    Result<TaskJournal> journal = TaskJournal::Open(next);
    ASSERT_OK(journal);
    ASSERT_OK(journal->AppendFrame(frame));
  }
  Result<TaskJournal> reopened = TaskJournal::Open(next);
  ASSERT_OK(reopened);
  EXPECT_EQ(reopened->earlier_entries(), 1u);
  Result<JournalEntry> entry = reopened->Read(*reopened->Earlier("t1"));
  ASSERT_OK(entry);
  EXPECT_EQ(entry->SerializeAsString(), parsed->SerializeAsString());
  Result<std::string> bytes = ReadFile(next);
  ASSERT_OK(bytes);
  EXPECT_NE(bytes->find(frame), std::string::npos);
}

TEST_F(TaskJournalTest, AResultIsReadAsViewsOfTheFieldsTheMergeWrites) {
  JournalEntry sealed;
  sealed.set_task_id("E-doc-0");
  sealed.set_task_digest("digest");
  TaskResult* result = sealed.mutable_result();
  result->set_record_bytes("serialized records");
  result->set_artifact_json("{\"a\": 1},\n{\"b\": 2}");
  result->set_record_count(2);
  result->mutable_totals()->set_chunks(7);
  for (const char* key : {"entity:a", "entity:b"}) {
    SharedRecord* shared = result->add_shared();
    shared->set_key(key);
    shared->set_json("{}");
  }
  JournalEntry empty;  // an empty message last: no bytes left after its length
  empty.set_task_id("E-doc-2");
  empty.mutable_result()->mutable_totals();
  JournalEntry failed;
  failed.set_task_id("E-doc-1");
  failed.mutable_result()->mutable_error()->set_kind("parse");
  Result<TaskJournal> journal = TaskJournal::Open(path_);
  ASSERT_OK(journal);
  Result<JournalLocation> at = journal->Append(sealed);
  Result<JournalLocation> failed_at = journal->Append(failed);
  Result<JournalLocation> empty_at = journal->Append(empty);
  ASSERT_OK(at);
  ASSERT_OK(failed_at);
  ASSERT_OK(empty_at);
  Result<TaskJournal::ResultView> nothing = journal->ReadView(*empty_at);
  ASSERT_OK(nothing);
  EXPECT_TRUE(nothing->artifact_json.empty());
  EXPECT_EQ(nothing->record_count, 0u);

  Result<TaskJournal::ResultView> view = journal->ReadView(*at);
  ASSERT_OK(view);
  EXPECT_FALSE(view->has_error);
  EXPECT_EQ(view->record_bytes, "serialized records");
  EXPECT_EQ(view->artifact_json, result->artifact_json());
  EXPECT_EQ(view->record_count, 2u);
  Metrics totals;
  ASSERT_TRUE(totals.ParseFromArray(view->totals.data(), static_cast<int>(view->totals.size())));
  EXPECT_EQ(totals.chunks(), 7u);
  ASSERT_EQ(view->shared.size(), 2u);
  SharedRecord second;
  ASSERT_TRUE(second.ParseFromArray(view->shared[1].data(), static_cast<int>(view->shared[1].size())));
  EXPECT_EQ(second.key(), "entity:b");
  EXPECT_EQ(view->frame.substr(8), sealed.SerializeAsString());  // after its length and checksum

  // Field 7 (record_bytes) sent as a varint is an unknown field to
  // protobuf: the view skips it too, rather than reading a length.
  JournalEntry mistyped;
  const std::string result_bytes = {0x38, 0x05, 0x48, 0x02};  // 7: varint 5, 9 (record_count): 2
  ASSERT_TRUE(mistyped.mutable_result()->ParseFromString(result_bytes));
  mistyped.set_task_id("E-doc-3");
  Result<JournalLocation> mistyped_at = journal->Append(mistyped);
  ASSERT_OK(mistyped_at);
  Result<TaskJournal::ResultView> skipped = journal->ReadView(*mistyped_at);
  ASSERT_OK(skipped);
  EXPECT_TRUE(skipped->record_bytes.empty());
  EXPECT_EQ(skipped->record_count, 2u);

  Result<TaskJournal::ResultView> error = journal->ReadView(*failed_at);
  ASSERT_OK(error);
  EXPECT_TRUE(error->has_error);
  std::string records;
  uint32_t count = 0;
  EXPECT_EQ(journal->ReadRecords(*failed_at, &records, &count).code(), StatusCode::kDataLoss);
  ASSERT_OK(journal->ReadRecords(*at, &records, &count));
  EXPECT_EQ(records, "serialized records");
  EXPECT_EQ(count, 2u);
}

}  // namespace
}  // namespace ingest
