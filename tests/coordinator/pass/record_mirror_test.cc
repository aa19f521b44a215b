#include "coordinator/pass/record_mirror.h"

#include "tests/testing/testing.h"

namespace ingest {
namespace {

using testing::TempDir;

ChunkRecord Chunk(const std::string& source_id, const std::string& text) {
  ChunkRecord chunk;
  chunk.set_source_id(source_id);
  chunk.set_chunk_id(source_id + "-" + text);
  chunk.set_text(text);
  return chunk;
}

std::vector<std::string> Texts(const RecordMirror& mirror, const std::string& source_id) {
  RecordBatch batch;
  EXPECT_OK(mirror.Read(source_id, &batch));
  std::vector<std::string> texts;
  for (const ChunkRecord& c : batch.chunks()) texts.push_back(c.text());
  return texts;
}

TEST(RecordMirrorTest, RecordsAddedOneByOneAndByBatchReadBackInOrderPerDocument) {
  TempDir dir;
  Result<RecordMirrorWriter> writer = RecordMirrorWriter::Open(dir.path() / "passC.mirror", Pass::PASS_C);
  ASSERT_OK(writer);
  ASSERT_OK(writer->Add("doc_a", Chunk("doc_a", "1")));
  RecordBatch parts;
  *parts.add_chunks() = Chunk("doc_a", "2");
  *parts.add_chunks() = Chunk("doc_a", "3");
  ASSERT_OK(writer->AddBatch("doc_a", parts));  // a second part of the same document
  ASSERT_OK(writer->Add("doc_a", Chunk("doc_a", "4")));
  RecordBatch b;
  *b.add_chunks() = Chunk("doc_b", "x");
  ASSERT_OK(writer->AddBatch("doc_b", b));
  ASSERT_OK(writer->AddBatch("doc_c", RecordBatch()));  // a document without records
  ASSERT_OK(writer->Add("doc_d", Chunk("doc_d", "y")));
  Result<RecordMirror> mirror = writer->Finish();
  ASSERT_OK(mirror);
  EXPECT_EQ(Texts(*mirror, "doc_a"), (std::vector<std::string>{"1", "2", "3", "4"}));
  EXPECT_EQ(Texts(*mirror, "doc_b"), (std::vector<std::string>{"x"}));
  EXPECT_TRUE(Texts(*mirror, "doc_c").empty());
  EXPECT_EQ(Texts(*mirror, "doc_d"), (std::vector<std::string>{"y"}));
  EXPECT_TRUE(Texts(*mirror, "doc_z").empty());

  // Reads merge into what the batch already holds, as the task inputs need.
  RecordBatch both;
  ASSERT_OK(mirror->Read("doc_b", &both));
  ASSERT_OK(mirror->Read("doc_d", &both));
  EXPECT_EQ(both.chunks_size(), 2);
}

TEST(RecordMirrorTest, CopiesShareTheOpenFile) {
  TempDir dir;
  RecordMirror copy;
  {
    Result<RecordMirrorWriter> writer = RecordMirrorWriter::Open(dir.path() / "passA.mirror", Pass::PASS_C);
    ASSERT_OK(writer);
    ASSERT_OK(writer->Add("doc_a", Chunk("doc_a", "1")));
    Result<RecordMirror> mirror = writer->Finish();
    ASSERT_OK(mirror);
    copy = *mirror;
  }
  EXPECT_EQ(Texts(copy, "doc_a"), (std::vector<std::string>{"1"}));
}

TEST(RecordMirrorTest, ATruncatedFileIsDataLoss) {
  TempDir dir;
  const auto path = dir.path() / "passC.mirror";
  Result<RecordMirrorWriter> writer = RecordMirrorWriter::Open(path, Pass::PASS_C);
  ASSERT_OK(writer);
  ASSERT_OK(writer->Add("doc_a", Chunk("doc_a", std::string(100, 'a'))));
  Result<RecordMirror> mirror = writer->Finish();
  ASSERT_OK(mirror);
  std::filesystem::resize_file(path, 10);
  RecordBatch batch;
  EXPECT_EQ(mirror->Read("doc_a", &batch).code(), StatusCode::kDataLoss);
}

}  // namespace
}  // namespace ingest
