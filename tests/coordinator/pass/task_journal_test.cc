#include "coordinator/pass/task_journal.h"

#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <cstring>
#include <fstream>
#include <map>
#include <set>

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

// The format's checksum is zlib's CRC-32 of each payload, whichever
// library computes it: journals of earlier releases stay readable, and this
// release's are readable by them.
TEST_F(TaskJournalTest, EveryFrameHoldsZlibsCrc32OfItsPayload) {
  {
    Result<TaskJournal> journal = TaskJournal::Open(path_);
    ASSERT_OK(journal);
    // Sizes around the widths a CRC implementation folds by.
    for (size_t size : {0, 1, 15, 16, 63, 64, 255, 4097, 100000}) {
      std::string text(size, '\0');
      for (size_t i = 0; i < size; ++i) text[i] = static_cast<char>(i * 131 + size);
      std::string id = "t";
      id += std::to_string(size);  // not "t" + ...: GCC 12 -Wrestrict false positive at -O3
      ASSERT_OK(journal->Append(Entry(id, text)));
    }
    ASSERT_OK(journal->Sync());
  }
  const std::string file = testing::ReadAll(path_);
  ASSERT_EQ(file.substr(0, 8), "IFJRNL3\n");
  size_t at = 8;
  int frames = 0;
  while (at + 8 <= file.size()) {
    uint32_t length = 0;
    uint32_t crc = 0;
    std::memcpy(&length, file.data() + at, 4);
    std::memcpy(&crc, file.data() + at + 4, 4);
    ASSERT_LE(at + 8 + length, file.size());
    const std::string_view payload(file.data() + at + 8, length);
    EXPECT_EQ(crc, static_cast<uint32_t>(
                       ::crc32(0, reinterpret_cast<const Bytef*>(payload.data()), static_cast<uInt>(payload.size()))))
        << "frame " << frames;
    at += 8 + length;
    ++frames;
  }
  EXPECT_EQ(at, file.size());
  EXPECT_EQ(frames, 9);
  Result<TaskJournal> reopened = TaskJournal::Open(path_);
  ASSERT_OK(reopened);
  EXPECT_EQ(reopened->earlier_entries(), 9u);
  EXPECT_EQ(reopened->discarded_bytes(), 0u);
}

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

// Journals of the release before references: read as they are; opened to
// be written, they become version 3, which that release starts over.
TEST_F(TaskJournalTest, AVersion2JournalIsReadAndBecomesVersion3WhenOpenedForWriting) {
  WriteEntries(2);
  {
    std::fstream file(path_, std::ios::in | std::ios::out | std::ios::binary);
    file.write("IFJRNL2\n", 8);
  }
  Result<TaskJournal> old = TaskJournal::OpenReadOnly(path_);
  ASSERT_OK(old);
  EXPECT_EQ(old->earlier_entries(), 2u);
  EXPECT_EQ(testing::ReadAll(path_).substr(0, 8), "IFJRNL2\n");
  Result<TaskJournal> journal = TaskJournal::Open(path_);
  ASSERT_OK(journal);
  EXPECT_EQ(journal->earlier_entries(), 2u);
  EXPECT_EQ(testing::ReadAll(path_).substr(0, 8), "IFJRNL3\n");
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

// Jobs' journals as a chain of jobs lays them out: {dir}/job_N/journal/passC.journal.
class CarriedJournalTest : public ::testing::Test {
 protected:
  TempDir dir_;

  std::filesystem::path JobJournal(int job) const {
    std::string name = "job_";
    name += std::to_string(job);  // not "job_" + ...: GCC 12 -Wrestrict false positive at -O3
    return dir_.path() / name / "journal" / "passC.journal";
  }
  static std::string Id(int task) {
    std::string id = "t";
    id += std::to_string(task);
    return id;
  }
  static std::string Text(int task, int version) {
    return std::string(2000 + task, static_cast<char>('a' + (task + version) % 26));
  }
  static JournalEntry Versioned(int task, int version) {
    JournalEntry entry = Entry(Id(task), Text(task, version));
    std::string digest = "digest-";
    digest += Id(task);
    digest += "-v";
    digest += std::to_string(version);
    entry.set_task_digest(digest);
    return entry;
  }

  // Job `job`'s journal: tasks [0, tasks) carried from job - 1 unless listed
  // in `changed`, whose new version is `job`. Returns the versions it holds.
  std::map<int, int> RunJob(int job, int tasks, const std::map<int, int>& before, const std::set<int>& changed) {
    std::filesystem::create_directories(JobJournal(job).parent_path());
    Result<TaskJournal> journal = TaskJournal::Open(JobJournal(job), /*fresh=*/true);
    EXPECT_OK(journal);
    std::map<int, int> versions;
    std::optional<TaskJournal> previous;
    if (job > 0) {
      Result<TaskJournal> opened = TaskJournal::OpenReadOnly(JobJournal(job - 1));
      EXPECT_OK(opened);
      EXPECT_EQ(opened->dropped_references(), 0u);
      previous.emplace(std::move(*opened));
    }
    std::vector<TaskJournal::Carried> carried;
    for (int task = 0; task < tasks; ++task) {
      if (changed.contains(task) || !previous) continue;
      auto it = previous->entries().find(Id(task));
      EXPECT_TRUE(it != previous->entries().end()) << Id(task);
      if (it == previous->entries().end()) continue;
      carried.push_back({.task_id = Id(task), .entry = &it->second});
      versions[task] = before.at(task);
    }
    if (previous) {
      Result<std::vector<JournalLocation>> at = journal->Carry(*previous, carried);
      EXPECT_OK(at);
      for (size_t k = 0; k < carried.size(); ++k)
        ExpectHolds(*journal, (*at)[k], std::stoi(carried[k].task_id.substr(1)), versions);
    }
    for (int task = 0; task < tasks; ++task) {
      if (versions.contains(task)) continue;
      EXPECT_OK(journal->Append(Versioned(task, job)));
      versions[task] = job;
    }
    EXPECT_OK(journal->Sync());
    return versions;
  }

  static void ExpectHolds(const TaskJournal& journal, JournalLocation at, int task,
                          const std::map<int, int>& versions) {
    Result<JournalEntry> entry = journal.Read(at);
    ASSERT_OK(entry);
    EXPECT_EQ(entry->task_id(), Id(task));
    EXPECT_EQ(entry->result().records().chunks(0).text(), Text(task, versions.at(task))) << Id(task);
  }

  // Every task of `versions` reads back from job `job`'s journal, opened as
  // the next job or a resume would.
  void ExpectJournalHolds(int job, const std::map<int, int>& versions) {
    Result<TaskJournal> reopened = TaskJournal::OpenReadOnly(JobJournal(job));
    ASSERT_OK(reopened);
    EXPECT_EQ(reopened->dropped_references(), 0u);
    EXPECT_EQ(reopened->earlier_entries(), versions.size());
    for (const auto& [task, version] : versions) {
      std::optional<JournalLocation> at = reopened->Earlier(Id(task));
      ASSERT_TRUE(at.has_value()) << Id(task);
      ExpectHolds(*reopened, *at, task, versions);
    }
  }

  static ino_t Inode(const std::filesystem::path& path) {
    struct stat st {};
    EXPECT_EQ(::stat(path.c_str(), &st), 0) << path;
    return st.st_ino;
  }
};

TEST_F(CarriedJournalTest, ACarriedResultIsReferencedWhereThePreviousJobKeepsItNotCopied) {
  std::map<int, int> v0 = RunJob(0, 20, {}, {});
  std::map<int, int> v1 = RunJob(1, 20, v0, {3});
  const std::filesystem::path segment = JobJournal(1).parent_path() / "passC.job_0.segment";
  ASSERT_TRUE(std::filesystem::exists(segment));
  EXPECT_EQ(Inode(segment), Inode(JobJournal(0)));
  // 19 results referenced, one written: far smaller than the file it references.
  EXPECT_LT(std::filesystem::file_size(JobJournal(1)), std::filesystem::file_size(JobJournal(0)) / 4);
  ExpectJournalHolds(1, v1);
  // The job it references can be deleted (retention): the link keeps the file.
  std::filesystem::remove_all(JobJournal(0).parent_path().parent_path());
  ExpectJournalHolds(1, v1);
  // And a whole pass carried forward links the journal with its segments.
  std::filesystem::create_directories(JobJournal(2).parent_path());
  ASSERT_OK(LinkJournal(JobJournal(1), JobJournal(2)));
  ExpectJournalHolds(2, v1);
}

TEST_F(CarriedJournalTest, AChainOfJobsKeepsAtMostKMaxSegmentsAndCopiesWhatIsMostlyDead) {
  std::map<int, int> versions = RunJob(0, 30, {}, {});
  for (int job = 1; job <= 12; ++job) {
    versions = RunJob(job, 30, versions, {job, (job * 7) % 30});
    Result<TaskJournal> journal = TaskJournal::OpenReadOnly(JobJournal(job));
    ASSERT_OK(journal);
    EXPECT_GE(journal->segments(), 1u);
    EXPECT_LE(journal->segments(), TaskJournal::kMaxSegments);
    ExpectJournalHolds(job, versions);
  }
  // Most of the tasks changed: the previous job's file is mostly dead, so
  // what is still carried is copied and nothing is referenced.
  std::set<int> most;
  for (int task = 0; task < 26; ++task) most.insert(task);
  versions = RunJob(13, 30, versions, most);
  ExpectJournalHolds(13, versions);
  Result<TaskJournal> compacted = TaskJournal::OpenReadOnly(JobJournal(13));
  ASSERT_OK(compacted);
  EXPECT_EQ(compacted->segments(), 0u);
  // An emptied journal (an explicit rerun) drops its links.
  std::filesystem::create_directories(JobJournal(14).parent_path());
  ASSERT_OK(LinkJournal(JobJournal(12), JobJournal(14)));
  ASSERT_OK(TaskJournal::Open(JobJournal(14), /*fresh=*/true));
  for (const auto& entry : std::filesystem::directory_iterator(JobJournal(14).parent_path())) {
    EXPECT_EQ(entry.path().filename(), "passC.journal");
  }
}

TEST_F(CarriedJournalTest, AFileWhoseCarriedEntriesAreUnderHalfOfItIsCopiedNotReferenced) {
  std::map<int, int> versions = RunJob(0, 20, {}, {});
  std::set<int> changed;
  for (int task = 0; task < 15; ++task) changed.insert(task);
  versions = RunJob(1, 20, versions, changed);  // job 0's file: 5 of 20 still carried
  ExpectJournalHolds(1, versions);
  changed.erase(12);
  changed.erase(13);
  changed.erase(14);
  versions = RunJob(2, 20, versions, changed);  // job 1's own file: 3 of its 15 results carried
  ExpectJournalHolds(2, versions);
  for (int job : {1, 2}) {
    Result<TaskJournal> journal = TaskJournal::OpenReadOnly(JobJournal(job));
    ASSERT_OK(journal);
    EXPECT_EQ(journal->segments(), 0u) << "job " << job;
  }
  // Most of it carried: referenced.
  versions = RunJob(3, 20, versions, {0});
  Result<TaskJournal> referencing = TaskJournal::OpenReadOnly(JobJournal(3));
  ASSERT_OK(referencing);
  EXPECT_EQ(referencing->segments(), 1u);
}

TEST_F(CarriedJournalTest, AReferencedEntryThatIsDamagedIsDroppedAndItsTaskRunsAgain) {
  std::map<int, int> v0 = RunJob(0, 10, {}, {});
  std::map<int, int> v1 = RunJob(1, 10, v0, {});
  // One byte of t4's text in the referenced file (the same inode as job 0's).
  std::string bytes = testing::ReadAll(JobJournal(0));
  const size_t at = bytes.find(Text(4, 0));
  ASSERT_NE(at, std::string::npos);
  bytes[at + 100] ^= 0x20;
  {
    std::fstream file(JobJournal(0), std::ios::in | std::ios::out | std::ios::binary);
    file.seekp(static_cast<std::streamoff>(at + 100));
    file.put(bytes[at + 100]);
  }
  Result<TaskJournal> reopened = TaskJournal::OpenReadOnly(JobJournal(1));
  ASSERT_OK(reopened);
  EXPECT_EQ(reopened->dropped_references(), 1u);
  EXPECT_FALSE(reopened->Earlier("t4").has_value());
  v1.erase(4);
  for (const auto& [task, version] : v1) ExpectHolds(*reopened, *reopened->Earlier(Id(task)), task, v1);
}

TEST_F(CarriedJournalTest, AMissingSegmentCutsTheJournalWhereItWasDeclared) {
  std::map<int, int> v0 = RunJob(0, 10, {}, {});
  RunJob(1, 10, v0, {2});
  std::filesystem::remove(JobJournal(1).parent_path() / "passC.job_0.segment");
  Result<TaskJournal> reopened = TaskJournal::Open(JobJournal(1));
  ASSERT_OK(reopened);
  // Its tasks run again, the one that changed too: it came after.
  EXPECT_EQ(reopened->earlier_entries(), 0u);
  EXPECT_GT(reopened->discarded_bytes(), 0u);
  ASSERT_OK(reopened->Append(Versioned(2, 1)));
}

TEST_F(CarriedJournalTest, AFailedResultIsIndexedAsSuch) {
  std::filesystem::create_directories(JobJournal(0).parent_path());
  Result<TaskJournal> journal = TaskJournal::Open(JobJournal(0));
  ASSERT_OK(journal);
  JournalEntry failed;
  failed.set_task_id("t0");
  failed.set_task_digest("digest");
  failed.mutable_result()->set_task_id("t0");
  failed.mutable_result()->set_attempt(2);
  failed.mutable_result()->mutable_error()->set_kind("parse");
  ASSERT_OK(journal->Append(failed));
  ASSERT_OK(journal->Append(Versioned(1, 0)));
  ASSERT_OK(journal->Sync());
  Result<TaskJournal> reopened = TaskJournal::OpenReadOnly(JobJournal(0));
  ASSERT_OK(reopened);
  EXPECT_TRUE(reopened->entries().at("t0").failed);
  EXPECT_FALSE(reopened->entries().at("t1").failed);
}

// A journal file written by hand: a segment named outside the journal's
// directory is damage, not a file to open.
TEST_F(CarriedJournalTest, ASegmentNamedOutsideTheJournalsDirectoryIsDamage) {
  RunJob(0, 3, {}, {});
  const auto frame = [](const JournalEntry& entry) {
    const std::string payload = entry.SerializeAsString();
    const auto length = static_cast<uint32_t>(payload.size());
    const auto crc = static_cast<uint32_t>(
        ::crc32(0, reinterpret_cast<const Bytef*>(payload.data()), static_cast<uInt>(payload.size())));
    std::string bytes(8, '\0');
    std::memcpy(bytes.data(), &length, 4);
    std::memcpy(bytes.data() + 4, &crc, 4);
    return bytes + payload;
  };
  JournalEntry segment;
  segment.mutable_segment()->set_number(1);
  segment.mutable_segment()->set_file("../../job_0/journal/passC.journal");
  std::filesystem::create_directories(JobJournal(1).parent_path());
  std::ofstream(JobJournal(1), std::ios::binary) << "IFJRNL3\n" << frame(segment);
  Result<TaskJournal> journal = TaskJournal::OpenReadOnly(JobJournal(1));
  ASSERT_OK(journal);
  EXPECT_EQ(journal->segments(), 0u);
  EXPECT_GT(journal->discarded_bytes(), 0u);
  // The same declaration naming a file beside it is taken.
  segment.mutable_segment()->set_file("passC.job_0.segment");
  ASSERT_OK(LinkJournal(JobJournal(0), JobJournal(1).parent_path() / "passC.job_0.segment"));
  std::ofstream(JobJournal(1), std::ios::binary) << "IFJRNL3\n" << frame(segment);
  Result<TaskJournal> taken = TaskJournal::OpenReadOnly(JobJournal(1));
  ASSERT_OK(taken);
  EXPECT_EQ(taken->segments(), 1u);
  EXPECT_EQ(taken->discarded_bytes(), 0u);
}

TEST_F(CarriedJournalTest, OnlyCarryWritesReferencesAndSegments) {
  std::filesystem::create_directories(JobJournal(0).parent_path());
  Result<TaskJournal> journal = TaskJournal::Open(JobJournal(0));
  ASSERT_OK(journal);
  JournalEntry reference = Versioned(1, 0);
  reference.mutable_ref()->set_segment(1);
  EXPECT_EQ(journal->Append(reference).status().code(), StatusCode::kInvalidArgument);
  JournalEntry segment;
  segment.mutable_segment()->set_number(1);
  segment.mutable_segment()->set_file("../../elsewhere");
  EXPECT_EQ(journal->Append(segment).status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace ingest
