#include "common/artifact.h"

#include <fstream>

#include "tests/testing/testing.h"

namespace ingest {
namespace {

using ::testing::HasSubstr;
using testing::ReadAll;
using testing::TempDir;

SplitRecord Split(const std::string& id, uint32_t part, uint32_t parts) {
  SplitRecord r;
  r.set_source_id(id);
  r.set_part(part);
  r.set_parts(parts);
  r.set_byte_start(uint64_t{part} * 10);
  r.set_byte_end(uint64_t{part} * 10 + 10);
  r.set_page_start(1);
  return r;
}

ArtifactRecord WriteSplits(const std::filesystem::path& path) {
  Result<ArtifactWriter> writer = ArtifactWriter::Open(path, Pass::PASS_B);
  EXPECT_OK(writer);
  EXPECT_OK(writer->Add(Split("doc_a", 0, 2)));
  EXPECT_OK(writer->Add(Split("doc_a", 1, 2)));
  EXPECT_OK(writer->Add(Split("doc_b", 0, 1)));
  Result<ArtifactRecord> record = writer->Commit();
  EXPECT_OK(record);
  return *record;
}

TEST(ArtifactTest, WritesOneCanonicalRecordPerLine) {
  TempDir dir;
  auto path = dir.path() / "passB_splits.json";
  ArtifactRecord record = WriteSplits(path);
  std::string text = ReadAll(path);
  EXPECT_EQ(text.substr(0, 2), "[\n");
  EXPECT_EQ(text.substr(text.size() - 3), "\n]\n");
  EXPECT_THAT(text, HasSubstr("{\"source_id\":\"doc_a\",\"part\":0,\"parts\":2,"));
  EXPECT_EQ(record.records(), 3u);
  EXPECT_EQ(record.bytes(), text.size());
  EXPECT_EQ(record.sha256(), Sha256Hex(text));
  EXPECT_EQ(record.path(), "passB_splits.json");
}

TEST(ArtifactTest, ScanIndexesRangesBySourceId) {
  TempDir dir;
  auto path = dir.path() / "passB_splits.json";
  ArtifactRecord record = WriteSplits(path);
  Result<ArtifactScan> scan = ScanArtifact(path, Pass::PASS_B);
  ASSERT_OK(scan);
  EXPECT_EQ(scan->sha256, record.sha256());
  EXPECT_EQ(scan->records, 3u);
  ASSERT_EQ(scan->index->size(), 2u);
  ASSERT_NE(scan->index->Find("doc_a"), nullptr);
  ASSERT_NE(scan->index->Find("doc_b"), nullptr);
  EXPECT_EQ(scan->index->Find("doc_a")->records, 2u);
  EXPECT_EQ(scan->index->Find("doc_0"), nullptr);   // before the first
  EXPECT_EQ(scan->index->Find("doc_ab"), nullptr);  // between two
  EXPECT_EQ(scan->index->Find("doc_z"), nullptr);   // after the last
  RecordBatch batch;
  ASSERT_OK(ReadRecords(path, Pass::PASS_B, *scan->index->Find("doc_a"), &batch));
  ASSERT_EQ(batch.splits_size(), 2);
  EXPECT_EQ(batch.splits(1).part(), 1u);
  RecordBatch b;
  ASSERT_OK(ReadRecords(path, Pass::PASS_B, *scan->index->Find("doc_b"), &b));
  ASSERT_EQ(b.splits_size(), 1);
  EXPECT_EQ(b.splits(0).source_id(), "doc_b");
}

void ExpectSameScan(const ArtifactScan& written, const ArtifactScan& read) {
  EXPECT_EQ(written.sha256, read.sha256);
  EXPECT_EQ(written.bytes, read.bytes);
  EXPECT_EQ(written.records, read.records);
  ASSERT_EQ(written.index->size(), read.index->size());
  for (const auto& [id, range] : *read.index) {
    ASSERT_NE(written.index->Find(id), nullptr) << id;
    const RecordRange& w = *written.index->Find(id);
    EXPECT_EQ(w.offset, range.offset) << id;
    EXPECT_EQ(w.length, range.length) << id;
    EXPECT_EQ(w.records, range.records) << id;
  }
}

// The merge trusts the writer's index instead of reading the file back.
TEST(ArtifactTest, WriterIndexesWhatScanFinds) {
  TempDir dir;
  for (int docs : {0, 1, 7}) {
    auto path = dir.path() / "passB_splits.json";
    Result<ArtifactWriter> writer = ArtifactWriter::Open(path, Pass::PASS_B);
    ASSERT_OK(writer);
    for (int d = 0; d < docs; ++d) {
      const uint32_t parts = 1 + static_cast<uint32_t>(d % 3);
      for (uint32_t p = 0; p < parts; ++p) ASSERT_OK(writer->Add(Split("doc_" + std::to_string(d), p, parts)));
    }
    ASSERT_OK(writer->Commit());
    Result<ArtifactScan> scan = ScanArtifact(path, Pass::PASS_B);
    ASSERT_OK(scan);
    ExpectSameScan(writer->TakeScan(), *scan);
  }
}

TEST(ArtifactTest, EmptyArtifactIsValid) {
  TempDir dir;
  auto path = dir.path() / "passC_chunks.json";
  Result<ArtifactWriter> writer = ArtifactWriter::Open(path, Pass::PASS_C);
  ASSERT_OK(writer);
  ASSERT_OK(writer->Commit());
  EXPECT_EQ(ReadAll(path), "[\n]\n");
  EXPECT_EQ(ScanArtifact(path, Pass::PASS_C)->records, 0u);
}

TEST(ArtifactTest, WriterRefusesInvalidAndOutOfOrderRecords) {
  TempDir dir;
  Result<ArtifactWriter> writer = ArtifactWriter::Open(dir.path() / "passB_splits.json", Pass::PASS_B);
  ASSERT_OK(writer);
  EXPECT_THAT(writer->Add(Split("doc_a", 3, 2)).message(), HasSubstr("part is not below parts"));
  ASSERT_OK(writer->Add(Split("doc_b", 0, 1)));
  EXPECT_EQ(writer->Add(Split("doc_a", 0, 1)).code(), StatusCode::kInternal);
}

void Rewrite(const std::filesystem::path& path, const std::string& from, const std::string& to) {
  std::string text = ReadAll(path);
  size_t at = text.find(from);
  ASSERT_NE(at, std::string::npos);
  text.replace(at, from.size(), to);
  std::ofstream(path, std::ios::binary | std::ios::trunc) << text;
}

TEST(ArtifactTest, ScanRejectsTamperedFiles) {
  TempDir dir;
  auto path = dir.path() / "passB_splits.json";
  struct Case {
    std::string from, to, expected;
  } cases[] = {
      {"\"parts\":2,", "\"parts\":2,\"extra\":1,", "line 2: "},
      {"\"part\":1,\"parts\":2", "\"part\":5,\"parts\":2", "line 3: part is not below parts"},
      {"\n]\n", "\n", "truncated"},
      {"},\n{\"source_id\":\"doc_b\"", "}\n{\"source_id\":\"doc_b\"", "missing ','"},
      {"{\"source_id\":\"doc_a\",\"part\":0", "{\"source_id\":\"doc_c\",\"part\":0", "out of order"},
  };
  for (const Case& c : cases) {
    WriteSplits(path);
    Rewrite(path, c.from, c.to);
    Result<ArtifactScan> scan = ScanArtifact(path, Pass::PASS_B);
    ASSERT_FALSE(scan.ok()) << c.expected;
    EXPECT_THAT(scan.status().message(), HasSubstr(c.expected));
    EXPECT_THAT(scan.status().message(), HasSubstr("passB_splits.json"));
  }
}

TEST(ArtifactTest, CleanupContractFailsOnIntegrityErrors) {
  CleanupRecord r;
  EXPECT_OK(ValidateRecord(Pass::PASS_F, r));
  r.add_integrity_errors("next edge to unknown node chk_x");
  EXPECT_THAT(ValidateRecord(Pass::PASS_F, r).message(), HasSubstr("1 referential integrity errors"));
}

}  // namespace
}  // namespace ingest
