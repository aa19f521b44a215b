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
  Result<TaskJournal::Framed> carried = previous->ReadFramed(*previous->Earlier("t1"));
  ASSERT_OK(carried);
  EXPECT_EQ(carried->entry.task_digest(), "digest-t1");
  const std::filesystem::path next = dir_.path() / "next.journal";
  {
    Result<TaskJournal> journal = TaskJournal::Open(next);
    ASSERT_OK(journal);
    ASSERT_OK(journal->Append(*carried));
  }
  Result<TaskJournal> reopened = TaskJournal::Open(next);
  ASSERT_OK(reopened);
  EXPECT_EQ(reopened->earlier_entries(), 1u);
  Result<JournalEntry> entry = reopened->Read(*reopened->Earlier("t1"));
  ASSERT_OK(entry);
  EXPECT_EQ(entry->SerializeAsString(), carried->entry.SerializeAsString());
  Result<std::string> bytes = ReadFile(next);
  ASSERT_OK(bytes);
  EXPECT_NE(bytes->find(carried->frame), std::string::npos);
}

}  // namespace
}  // namespace ingest
