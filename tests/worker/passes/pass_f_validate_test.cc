#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "worker/passes/passes.h"

namespace ingest {
namespace {

using ::testing::HasSubstr;

RecordBatch ConsistentDocument() {
  TocRecord toc;
  toc.set_source_id("doc_1");
  std::vector<ChunkRecord> chunks(2);
  std::vector<EnrichedRecord> enriched(2);
  RecordBatch in;
  for (int i = 0; i < 2; ++i) {
    chunks[i].set_chunk_id("chk_" + std::to_string(i));
    chunks[i].mutable_metadata()->set_byte_start(i);
    enriched[i].set_chunk_id(chunks[i].chunk_id());
    enriched[i].set_normalized("same text");
    *in.add_chunks() = chunks[i];
    *in.add_enriched() = enriched[i];
  }
  for (GraphRecord& g : CompileGraph(toc, chunks, enriched)) *in.add_graph() = g;
  return in;
}

TEST(ValidateDocumentTest, ConsistentDocumentHasNoErrorsAndDigestsEveryChunk) {
  RecordBatch out;
  ValidateDocument(ConsistentDocument(), &out);
  EXPECT_EQ(out.integrity_errors_size(), 0);
  ASSERT_EQ(out.digests_size(), 2);
  EXPECT_EQ(out.digests(0).text_hash(), out.digests(1).text_hash());
  EXPECT_EQ(out.edges_checked(), 3u);  // 2 contains + 1 next
}

TEST(ValidateDocumentTest, ReportsDanglingReferences) {
  RecordBatch in = ConsistentDocument();
  in.mutable_enriched()->RemoveLast();
  GraphRecord* dangling = in.add_graph();
  dangling->mutable_edge()->set_kind("next");
  dangling->mutable_edge()->set_from("chk_0");
  dangling->mutable_edge()->set_to("chk_missing");
  RecordBatch out;
  ValidateDocument(in, &out);
  ASSERT_EQ(out.integrity_errors_size(), 2);
  EXPECT_THAT(out.integrity_errors(0), HasSubstr("chk_1 has no pass D record"));
  EXPECT_THAT(out.integrity_errors(1), HasSubstr("next edge to unknown node chk_missing"));
}

}  // namespace
}  // namespace ingest
