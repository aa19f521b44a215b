#include "common/pass.h"

#include <algorithm>

#include "common/artifact.h"
#include "tests/testing/testing.h"

namespace ingest {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

bool Contains(const std::vector<Pass>& passes, Pass p) {
  return std::find(passes.begin(), passes.end(), p) != passes.end();
}

TEST(PassTableTest, EveryPassReadsOnlyWhatItsGateChecks) {
  for (Pass p : kAllPasses) {
    const PassInfo& info = Describe(p);
    SCOPED_TRACE(info.letter);
    EXPECT_EQ(info.pass, p);
    for (Pass input : info.task_inputs) EXPECT_TRUE(Contains(info.upstream, input));
    if (info.planned_from != Pass::PASS_UNSPECIFIED) {
      EXPECT_TRUE(Contains(info.upstream, info.planned_from));
    }
    for (Pass up : info.upstream) EXPECT_LT(up, p) << "a pass reads only earlier passes";
  }
}

TEST(PassTableTest, RecordTypesBatchFieldsAndTotalsAgree) {
  for (Pass p : kAllPasses) {
    const PassInfo& info = Describe(p);
    SCOPED_TRACE(info.letter);
    if (info.batch_field != nullptr) {
      EXPECT_EQ(info.batch_field->message_type(), info.record->GetDescriptor());
    } else {
      EXPECT_EQ(info.merge, MergeKind::kCleanup) << "only pass F's tasks return checks instead of records";
    }
    for (const std::string& name : info.totals)
      EXPECT_NE(Metrics::descriptor()->FindFieldByName(name), nullptr) << name;
    EXPECT_EQ(info.artifact.rfind("pass" + info.letter + "_", 0), 0u);
  }
}

TEST(PassTableTest, BatchHelpersGoThroughTheRecordField) {
  RecordBatch batch;
  ChunkRecord chunk;
  chunk.set_chunk_id("chk_1");
  chunk.set_source_id("doc_1");
  AddToBatch(Pass::PASS_C, chunk, &batch);
  ASSERT_EQ(batch.chunks_size(), 1);
  EXPECT_EQ(BatchSize(Pass::PASS_C, batch), 1);
  EXPECT_EQ(BatchSize(Pass::PASS_A, batch), 0);
  EXPECT_EQ(RecordSourceId(Pass::PASS_C, BatchRecord(Pass::PASS_C, batch, 0)), "doc_1");
  EXPECT_EQ(BatchSize(Pass::PASS_F, batch), 0);
}

TEST(PassTableTest, TalliesAndCopiesOnlyThePassesOwnTotals) {
  const PassInfo& e = Describe(Pass::PASS_E);
  Metrics totals;
  GraphRecord entity;
  entity.mutable_node()->set_kind("entity");
  GraphRecord chunk;
  chunk.mutable_node()->set_kind("chunk");
  GraphRecord edge;
  edge.mutable_edge()->set_kind("next");
  for (const GraphRecord* g : {&entity, &chunk, &edge, &edge}) e.tally(*g, &totals);
  EXPECT_EQ(totals.entities(), 1u);
  EXPECT_EQ(totals.graph_nodes(), 2u);
  EXPECT_EQ(totals.graph_edges(), 2u);

  Metrics job;
  job.set_pages(7);
  totals.set_pages(99);
  CopyTotals(Pass::PASS_E, totals, &job);
  EXPECT_EQ(job.pages(), 7u) << "pages belong to pass A";
  EXPECT_EQ(job.graph_edges(), 2u);
}

TEST(PassTest, ParsesPassListsInExecutionOrder) {
  Result<std::vector<Pass>> passes = ParsePassList("d, a,C,a");
  ASSERT_OK(passes);
  EXPECT_THAT(*passes, ElementsAre(Pass::PASS_A, Pass::PASS_C, Pass::PASS_D));
  EXPECT_THAT(ParsePassList("A,G").status().message(), HasSubstr("unknown pass 'G'"));
}

}  // namespace
}  // namespace ingest
