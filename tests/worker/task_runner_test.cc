#include "worker/task_runner.h"

#include "tests/testing/testing.h"

namespace ingest {
namespace {

using ::testing::HasSubstr;

TEST(TaskRunnerTest, ATaskWithoutItsPassParametersFailsPermanently) {
  Task task;
  task.set_task_id("C-doc_1-0");
  task.set_attempt(1);
  task.set_pass(Pass::PASS_C);
  task.mutable_enrich();  // another pass's parameters
  TaskResult result = RunTask(task);
  ASSERT_TRUE(result.has_error());
  EXPECT_EQ(result.error().error_class(), ERROR_CLASS_PERMANENT);
  EXPECT_THAT(result.error().message(), HasSubstr("of pass C lacks its parameters"));
  EXPECT_EQ(result.attempt(), 1u);
}

TEST(TaskRunnerTest, ATaskThatNamesNoPassFails) {
  Task task;
  task.set_task_id("x");
  TaskResult result = RunTask(task);
  ASSERT_TRUE(result.has_error());
  EXPECT_THAT(result.error().message(), HasSubstr("names no pass"));
}

TEST(TaskRunnerTest, PassDEnrichesTheChunksItIsGiven) {
  Task task;
  task.set_task_id("D-doc_1-0");
  task.set_pass(Pass::PASS_D);
  RecordBatch inputs;
  ChunkRecord* chunk = inputs.add_chunks();
  chunk->set_chunk_id("chk_1");
  chunk->set_source_id("doc_1");
  chunk->set_text("The Retention Period applies.");
  task.set_inputs(inputs.SerializeAsString());
  task.mutable_enrich()->add_dictionary("Retention Period");
  TaskResult result = RunTask(task);
  ASSERT_FALSE(result.has_error()) << result.error().message();
  ASSERT_EQ(result.records().enriched_size(), 1);
  EXPECT_EQ(result.records().enriched(0).chunk_id(), "chk_1");
}

TEST(TaskRunnerTest, UpstreamRecordsThatDoNotParseFailTheTask) {
  Task task;
  task.set_task_id("D-doc_1-0");
  task.set_pass(Pass::PASS_D);
  task.mutable_enrich();
  task.set_inputs("\xff\xff\xff not a RecordBatch");
  TaskResult result = RunTask(task);
  ASSERT_TRUE(result.has_error());
  EXPECT_THAT(result.error().message(), HasSubstr("upstream records do not parse"));
}

}  // namespace
}  // namespace ingest
