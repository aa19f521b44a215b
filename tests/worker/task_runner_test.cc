#include "worker/task_runner.h"

#include <map>
#include <string>

#include "common/sha256.h"
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

TEST(TaskRunnerTest, PassARecordsTheChecksumOfTheBytesItExtractedWhateverTheirSize) {
  // Hashed from the read the text came from: the first 64 KiB, or the
  // whole file when it is longer.
  testing::TempDir dir;
  std::string large;
  while (large.size() < (200 << 10)) large += "A line of the larger document, one of many.\n";
  // CRLF: the text is decoded to LF, the checksum is of the file's bytes.
  const std::map<std::string, std::string> documents = {{"small.md", "# Small\n\nA short document.\n"},
                                                        {"crlf.txt", "Line one\r\nLine two\r\n"},
                                                        {"exact.txt", std::string(64 << 10, 'x')},
                                                        {"large.txt", large}};
  for (const auto& [name, content] : documents) {
    dir.Write("root/" + name, content);
    Task task;
    task.set_task_id("A-" + name);
    task.set_pass(Pass::PASS_A);
    DocumentRef* ref = task.mutable_document();
    ref->set_source("docs");
    ref->set_source_id("doc_" + name);
    ref->set_path(name);
    ref->set_root((dir.path() / "root").string());
    TaskResult result = RunTask(task);
    ASSERT_FALSE(result.has_error()) << name << ": " << result.error().message();
    ASSERT_EQ(result.records().toc_size(), 1) << name;
    EXPECT_EQ(result.records().toc(0).checksum(), Sha256Hex(content)) << name;
    EXPECT_EQ(result.records().toc(0).bytes(), content.size()) << name;
  }
}

// A pass D task of one chunk with `text`, and the corpus's `dictionary`.
Task PassDTask(const std::string& text, const std::vector<std::string>& dictionary) {
  Task task;
  task.set_task_id("D-doc_1-0");
  task.set_pass(Pass::PASS_D);
  RecordBatch inputs;
  ChunkRecord* chunk = inputs.add_chunks();
  chunk->set_chunk_id("chk_1");
  chunk->set_source_id("doc_1");
  chunk->set_text(text);
  task.set_inputs(inputs.SerializeAsString());
  EnrichParams* params = task.mutable_enrich();
  for (const std::string& term : dictionary) params->add_dictionary(term);
  return task;
}

TEST(TaskRunnerTest, PassDEnrichesTheChunksItIsGiven) {
  TaskResult result = RunTask(PassDTask("The Retention Period applies.", {"Retention Period"}));
  ASSERT_FALSE(result.has_error()) << result.error().message();
  ASSERT_EQ(result.records().enriched_size(), 1);
  EXPECT_EQ(result.records().enriched(0).chunk_id(), "chk_1");
}

TEST(TaskRunnerTest, EachPassDTaskMatchesTheDictionaryItCarries) {
  // A thread keeps the dictionary it prepared last: tasks that carry
  // another one, or none, must not match with it.
  const auto enrich = [](const std::vector<std::string>& dictionary) {
    TaskResult result = RunTask(PassDTask("the retention period and the worker fleet", dictionary));
    EXPECT_FALSE(result.has_error()) << result.error().message();
    std::vector<std::string> terms;
    for (const Entity& e : result.records().enriched(0).entities()) {
      if (e.kind() == "term") terms.push_back(e.name());
    }
    return terms;
  };
  EXPECT_EQ(enrich({"Retention Period"}), std::vector<std::string>{"Retention Period"});
  EXPECT_EQ(enrich({"Retention Period"}), std::vector<std::string>{"Retention Period"});
  EXPECT_EQ(enrich({"Worker Fleet"}), std::vector<std::string>{"Worker Fleet"});
  EXPECT_EQ(enrich({"Retention Period", "Worker Fleet"}),
            (std::vector<std::string>{"Retention Period", "Worker Fleet"}));
  EXPECT_EQ(enrich({"Retention Period"}), std::vector<std::string>{"Retention Period"});
  EXPECT_EQ(enrich({}), std::vector<std::string>{});
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
