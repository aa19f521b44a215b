#include "coordinator/pass/pass_executor.h"

#include "common/manifest.h"
#include "common/result_seal.h"
#include "tests/testing/testing.h"

namespace ingest {
namespace {

using ::testing::ElementsAre;
using testing::TempDir;

// Pass A over a manifest of documents in two sources: planning needs no
// upstream artifact and no worker.
class PassExecutorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    config_.sources.push_back(SourceConfig{.name = "bulk", .kind = "files", .root = dir_.path(), .priority = "P2"});
    config_.sources.push_back(SourceConfig{.name = "rules", .kind = "files", .root = dir_.path(), .priority = "P0"});
    manifest_ = NewManifest("job_2026-11-22T02-00-00", "dev");
    AddDocument("doc_1", "bulk", "small.md", 10);
    AddDocument("doc_2", "bulk", "large.md", 5 << 20);
    AddDocument("doc_3", "rules", "rule-small.md", 20);
    AddDocument("doc_4", "rules", "rule-large.md", 2 << 20);
    AddDocument("doc_5", "bulk", "medium.md", 700);
    AddDocument("doc_6", "bulk", "larger.md", 7 << 20);
  }

  void AddDocument(const std::string& id, const std::string& source, const std::string& path, uint64_t bytes) {
    DocumentRecord& doc = (*manifest_.mutable_documents())[id];
    doc.set_source(source);
    doc.set_path(path);
    doc.set_bytes(bytes);
    doc.set_status(kDocProcessed);
  }

  std::unique_ptr<PassExecutor> Executor() {
    return std::make_unique<PassExecutor>(Pass::PASS_A, config_, manifest_, dir_.path(), std::map<Pass, ArtifactScan>{},
                                          results_);
  }

  // A worker's result, sealed as workers send them.
  static TaskResult TocResult(const Task& task) {
    TaskResult result;
    result.set_task_id(task.task_id());
    TocRecord* toc = result.mutable_records()->add_toc();
    toc->set_source_id(task.document().source_id());
    toc->set_source(task.document().source());
    toc->set_path(task.document().path());
    toc->set_format("markdown");
    toc->set_checksum(std::string(64, 'c'));
    SealResult(task, &result);
    EXPECT_FALSE(result.has_error()) << result.error().message();
    return result;
  }

  // Source ids in dispatch order.
  std::vector<std::string> Order(const PassExecutor& executor) {
    std::vector<std::string> ids;
    for (size_t i : executor.DispatchOrder()) ids.push_back("doc_" + std::to_string(i + 1));
    return ids;
  }

  TempDir dir_;
  Config config_;
  Manifest manifest_;
  std::map<Pass, PassResults> results_;
};

TEST_F(PassExecutorTest, DispatchesP0SourcesFirstEachsHeavyDocumentsFirstThenInMergeOrder) {
  auto executor = Executor();
  ASSERT_OK(executor->Plan());
  ASSERT_EQ(executor->task_count(), 6u);  // planned in source_id order: doc_1 .. doc_6
  EXPECT_THAT(Order(*executor), ElementsAre("doc_4", "doc_3", "doc_6", "doc_2", "doc_1", "doc_5"));
}

TEST_F(PassExecutorTest, AResumedPassReusesCommittedResultsOfIdenticalTasksOnly) {
  {
    auto killed = Executor();
    ASSERT_OK(killed->Plan());
    for (size_t i : {0u, 2u, 3u}) {
      Result<Task> task = killed->BuildTask(i);
      ASSERT_OK(task);
      killed->OnResult(i, TocResult(*task));
    }
    // The run dies here: no merge, the journal stays.
  }
  // Meanwhile doc_4 moved: its committed result belongs to another task.
  (*manifest_.mutable_documents())["doc_4"].set_path("moved.md");
  for (auto& [id, doc] : *manifest_.mutable_documents()) doc.clear_checksum();

  auto resumed = Executor();
  ASSERT_OK(resumed->Plan());
  Result<PassExecutor::Reused> reused = resumed->ReuseCommitted();
  ASSERT_OK(reused);
  EXPECT_EQ(reused->resumed, 2u);
  EXPECT_EQ(reused->carried, 0u);
  EXPECT_THAT(Order(*resumed), ElementsAre("doc_4", "doc_6", "doc_2", "doc_5"));
  EXPECT_EQ(manifest_.documents().at("doc_1").checksum(), std::string(64, 'c'));  // applied as if it just ran
  for (size_t i : resumed->DispatchOrder()) {
    Result<Task> task = resumed->BuildTask(i);
    ASSERT_OK(task);
    resumed->OnResult(i, TocResult(*task));
  }
  Result<PassOutcome> outcome = resumed->Merge();
  ASSERT_OK(outcome);
  EXPECT_EQ(outcome->artifact.records(), 6u);
}

TEST_F(PassExecutorTest, ARecordThatBreaksTheContractFailsThePassNamingIt) {
  auto executor = Executor();
  ASSERT_OK(executor->Plan());
  for (size_t i : executor->DispatchOrder()) {
    Result<Task> task = executor->BuildTask(i);
    ASSERT_OK(task);
    TaskResult result;
    result.set_task_id(task->task_id());
    TocRecord* toc = result.mutable_records()->add_toc();
    toc->set_source_id(task->document().source_id());  // no path, format or checksum
    SealResult(*task, &result);
    executor->OnResult(i, std::move(result));
  }
  EXPECT_THAT(executor->contract_violation(), ::testing::HasSubstr("passA_toc.json record 1 of "));
  Result<PassOutcome> outcome = executor->Merge();
  ASSERT_FALSE(outcome.ok());
  EXPECT_EQ(outcome.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(outcome.status().message(), ::testing::HasSubstr("contract invalid: passA_toc.json record 1 of "));
}

}  // namespace
}  // namespace ingest
