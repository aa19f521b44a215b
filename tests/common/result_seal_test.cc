#include "common/result_seal.h"

#include "common/artifact.h"
#include "common/pass.h"
#include "common/proto_json.h"
#include "tests/testing/testing.h"

namespace ingest {
namespace {

using ::testing::HasSubstr;

Task TaskOf(Pass pass, const std::string& source_id) {
  Task task;
  task.set_task_id(PassLetter(pass) + "-" + source_id + "-0");
  task.set_attempt(2);
  task.set_pass(pass);
  task.mutable_document()->set_source_id(source_id);
  task.mutable_document()->set_path("notes/a.md");
  return task;
}

ChunkRecord Chunk(const std::string& id, const std::string& source_id, const std::string& text) {
  ChunkRecord c;
  c.set_chunk_id(id);
  c.set_source_id(source_id);
  c.set_page(1);
  c.set_text(text);
  c.mutable_metadata()->set_byte_end(text.size());
  return c;
}

GraphRecord Node(const std::string& id, const std::string& kind, const std::string& source_id) {
  GraphRecord g;
  g.mutable_node()->set_id(id);
  g.mutable_node()->set_kind(kind);
  g.mutable_node()->set_label(id);
  g.mutable_node()->set_source_id(source_id);
  return g;
}

TEST(SealResultTest, RecordsBecomeTheirBytesAndTheArtifactsLinesWithTheirTotals) {
  Task task = TaskOf(Pass::PASS_C, "doc_1");
  TaskResult result;
  *result.mutable_records()->add_chunks() = Chunk("chk_1", "doc_1", "first \"quoted\"\nline");
  *result.mutable_records()->add_chunks() = Chunk("chk_2", "doc_1", "second");
  RecordBatch original = result.records();
  SealResult(task, &result);
  ASSERT_FALSE(result.has_error()) << result.error().message();
  EXPECT_FALSE(result.has_records()) << "moved, not sent twice";
  EXPECT_EQ(result.record_count(), 2u);
  EXPECT_EQ(result.artifact_json(), ToJson(original.chunks(0)) + ",\n" + ToJson(original.chunks(1)));
  RecordBatch back;
  ASSERT_TRUE(back.ParseFromString(result.record_bytes()));
  EXPECT_EQ(back.SerializeAsString(), original.SerializeAsString());
  EXPECT_EQ(result.totals().chunks(), 2u);
}

TEST(SealResultTest, ARecordThatBreaksTheContractOrBelongsElsewhereTurnsTheResultIntoAContractError) {
  Task task = TaskOf(Pass::PASS_C, "doc_1");
  TaskResult result;
  *result.mutable_records()->add_chunks() = Chunk("chk_1", "doc_1", "fine");
  *result.mutable_records()->add_chunks() = Chunk("", "doc_1", "no id");
  SealResult(task, &result);
  ASSERT_TRUE(result.has_error());
  EXPECT_EQ(result.error().kind(), kContractViolation);
  EXPECT_EQ(result.error().error_class(), ERROR_CLASS_PERMANENT);
  EXPECT_THAT(result.error().message(), HasSubstr("passC_chunks.json record 2 of notes/a.md: "));
  EXPECT_EQ(result.task_id(), task.task_id());
  EXPECT_EQ(result.attempt(), 2u);
  EXPECT_TRUE(result.artifact_json().empty());

  TaskResult foreign;
  *foreign.mutable_records()->add_chunks() = Chunk("chk_9", "doc_2", "another document's");
  SealResult(task, &foreign);
  ASSERT_TRUE(foreign.has_error());
  EXPECT_THAT(foreign.error().message(), HasSubstr("belongs to document 'doc_2'"));
}

TEST(SealResultTest, CorpusWideRecordsAreSetApartByKeyEachOnce) {
  Task task = TaskOf(Pass::PASS_E, "doc_1");
  TaskResult result;
  *result.mutable_records()->add_graph() = Node("ent_b", "entity", "");
  *result.mutable_records()->add_graph() = Node("src_1", "source", "doc_1");
  *result.mutable_records()->add_graph() = Node("ent_a", "entity", "");
  *result.mutable_records()->add_graph() = Node("ent_b", "entity", "");
  SealResult(task, &result);
  ASSERT_FALSE(result.has_error()) << result.error().message();
  ASSERT_EQ(result.shared_size(), 2);
  EXPECT_EQ(result.shared(0).key(), "ent_a");
  EXPECT_EQ(result.shared(1).key(), "ent_b");
  EXPECT_EQ(result.shared(0).totals().entities(), 1u);
  EXPECT_EQ(result.record_count(), 1u);
  RecordBatch own;
  ASSERT_TRUE(own.ParseFromString(result.record_bytes()));
  ASSERT_EQ(own.graph_size(), 1) << "later passes get the document's own records";
  EXPECT_EQ(own.graph(0).node().id(), "src_1");
  EXPECT_EQ(result.totals().graph_nodes(), 1u);
}

TEST(SealResultTest, PassFChecksTravelAsBytesAndAFailedResultLosesItsRecords) {
  Task task = TaskOf(Pass::PASS_F, "doc_1");
  TaskResult checks;
  checks.mutable_records()->add_integrity_errors("chunk chk_1 appears twice in pass C");
  checks.mutable_records()->set_edges_checked(7);
  SealResult(task, &checks);
  RecordBatch back;
  ASSERT_TRUE(back.ParseFromString(checks.record_bytes()));
  EXPECT_EQ(back.edges_checked(), 7u);
  EXPECT_TRUE(checks.artifact_json().empty());

  TaskResult failed;
  failed.mutable_error()->set_kind("corrupt");
  *failed.mutable_records()->add_chunks() = Chunk("chk_1", "doc_1", "half");
  SealResult(TaskOf(Pass::PASS_C, "doc_1"), &failed);
  EXPECT_FALSE(failed.has_records());
  EXPECT_TRUE(failed.record_bytes().empty());
}

}  // namespace
}  // namespace ingest
