#include "coordinator/pass/pass_results.h"

#include "tests/testing/testing.h"

namespace ingest {
namespace {

using testing::TempDir;

// A committed result of pass C over `part` of `source_id`: one chunk.
JournalEntry ChunkEntry(const std::string& source_id, uint32_t part, const std::string& text) {
  JournalEntry entry;
  entry.set_task_id(MakeTaskId(Pass::PASS_C, source_id, part));
  entry.set_task_digest("digest-" + entry.task_id());
  RecordBatch records;
  ChunkRecord* chunk = records.add_chunks();
  chunk->set_source_id(source_id);
  chunk->set_text(text);
  entry.mutable_result()->set_record_bytes(records.SerializeAsString());
  entry.mutable_result()->set_record_count(1);
  return entry;
}

class PassResultsTest : public ::testing::Test {
 protected:
  TempDir dir_;
  std::filesystem::path path_ = JournalPath(dir_.path(), Pass::PASS_C);
};

TEST_F(PassResultsTest, ADocumentsPartsAreReadInPartOrderWithTheirDigests) {
  std::filesystem::create_directories(path_.parent_path());
  {
    Result<TaskJournal> journal = TaskJournal::Open(path_);
    ASSERT_OK(journal);
    // Parts 10 and 2 sort as text the wrong way round; a later entry of a
    // task replaces its earlier one.
    for (uint32_t part : {10u, 2u, 0u})
      ASSERT_OK(journal->Append(ChunkEntry("doc_a", part, "part " + std::to_string(part))));
    ASSERT_OK(journal->Append(ChunkEntry("doc_a", 2, "part 2, again")));
    ASSERT_OK(journal->Append(ChunkEntry("doc_b", 0, "other")));
  }
  Result<PassResults> results = PassResults::Open(path_, Pass::PASS_C);
  ASSERT_OK(results);
  std::string bytes;
  std::string digests;
  uint32_t count = 0;
  ASSERT_OK(results->Append("doc_a", &bytes, &digests, &count));
  RecordBatch batch;
  ASSERT_TRUE(batch.ParseFromString(bytes)) << "concatenated RecordBatch bytes parse as one";
  ASSERT_EQ(batch.chunks_size(), 3);
  EXPECT_EQ(batch.chunks(0).text(), "part 0");
  EXPECT_EQ(batch.chunks(1).text(), "part 2, again");
  EXPECT_EQ(batch.chunks(2).text(), "part 10");
  EXPECT_EQ(count, 3u);
  EXPECT_EQ(digests, "digest-C-doc_a-0,digest-C-doc_a-2,digest-C-doc_a-10");
  std::string none;
  ASSERT_OK(results->Append("doc_missing", &none));
  EXPECT_TRUE(none.empty());
}

TEST_F(PassResultsTest, AnErrorInPlaceOfRecordsIsDataLossAndNoJournalIsNotFound) {
  EXPECT_EQ(PassResults::Open(path_, Pass::PASS_C).status().code(), StatusCode::kNotFound);
  std::filesystem::create_directories(path_.parent_path());
  {
    Result<TaskJournal> journal = TaskJournal::Open(path_);
    ASSERT_OK(journal);
    JournalEntry failed = ChunkEntry("doc_a", 0, "");
    failed.mutable_result()->mutable_error()->set_kind("corrupt");
    ASSERT_OK(journal->Append(failed));
  }
  Result<PassResults> results = PassResults::Open(path_, Pass::PASS_C);
  ASSERT_OK(results);
  std::string bytes;
  EXPECT_EQ(results->Append("doc_a", &bytes).code(), StatusCode::kDataLoss);
}

}  // namespace
}  // namespace ingest
