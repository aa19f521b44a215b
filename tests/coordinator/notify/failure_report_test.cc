#include "coordinator/notify/failure_report.h"

#include "common/manifest.h"
#include "tests/testing/testing.h"

namespace ingest {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

class FailureReportTest : public ::testing::Test {
 protected:
  void SetUp() override {
    manifest_ = NewManifest("job_2026-11-22T02-00-00", "prod");
    Fail("doc_1", "manuals/a.pdf", "A", "corrupt", "PDF helper: xref table damaged");
    Fail("doc_2", "manuals/b.pdf", "A", "corrupt", "not a PDF");
    Fail("doc_3", "notes/empty.txt", "A", "invalid_document", "empty file");
    Fail("doc_4", "big/log.txt", "C", "timeout", "task exceeded 600 s");
    DocumentRecord& ok = (*manifest_.mutable_documents())["doc_5"];
    ok.set_source("rules");
    ok.set_path("fine.md");
    ok.set_status(kDocProcessed);
    summary_.set_run_id("run_20261122_020000_42");
    summary_.set_job_id("job_2026-11-22T02-00-00");
    summary_.set_env("prod");
    summary_.set_status("partial");
    summary_.set_exit_code(3);
    summary_.mutable_documents()->set_failed(4);
    summary_.mutable_documents()->set_new_(2);
    summary_.mutable_documents()->set_deleted(1);
  }

  void Fail(const std::string& id, const std::string& path, const std::string& pass, const std::string& kind,
            const std::string& message) {
    DocumentRecord& doc = (*manifest_.mutable_documents())[id];
    doc.set_source("rules");
    doc.set_path(path);
    doc.set_status(kDocFailed);
    doc.set_failed_pass(pass);
    doc.set_error_class(kind);
    doc.set_error(message);
  }

  FailureReportInput Input(std::vector<std::string> run_errors = {}) {
    return {manifest_,
            summary_,
            std::move(run_errors),
            "/etc/ingest.yaml",
            "/srv/ingest/prod/job_2026-11-22T02-00-00",
            WallTime(std::chrono::seconds(1795312800))};
  }

  Manifest manifest_;
  RunSummary summary_;
};

TEST_F(FailureReportTest, GroupsFailedDocumentsByPassAndClassWithEveryInstance) {
  std::string report = RenderFailureReport(Input());
  EXPECT_THAT(report, HasSubstr("# Ingestion run run_20261122_020000_42: partial"));
  EXPECT_THAT(report, HasSubstr("## Failed documents (4)"));
  EXPECT_THAT(report, HasSubstr("### Pass A — corrupt (2)\n\n- `rules/manuals/a.pdf`: PDF helper: xref table damaged\n"
                                "- `rules/manuals/b.pdf`: not a PDF\n"));
  EXPECT_THAT(report, HasSubstr("### Pass A — invalid_document (1)\n\n- `rules/notes/empty.txt`: empty file\n"));
  EXPECT_THAT(report, HasSubstr("### Pass C — timeout (1)"));
  EXPECT_THAT(report, Not(HasSubstr("fine.md")));
  EXPECT_THAT(report, HasSubstr("2 new, 0 changed, 1 deleted."));
  EXPECT_THAT(report, HasSubstr("/srv/ingest/prod/job_2026-11-22T02-00-00/manifest.json"));
  // Partial: rerunning from the first pass a document failed in retries them.
  EXPECT_THAT(report, HasSubstr("ingest-coordinator run --config /etc/ingest.yaml --job-dir "
                                "/srv/ingest/prod/job_2026-11-22T02-00-00 --resume-from A"));
  EXPECT_EQ(RenderFailureReport(Input()), report);
}

TEST_F(FailureReportTest, AFailedRunListsItsOwnFailuresAndResumes) {
  summary_.set_status("failed");
  std::string report = RenderFailureReport(Input({"pass D: gate of pass D: passC_chunks.json: sha256 differs"}));
  EXPECT_THAT(report, HasSubstr("## Run failures\n\n- pass D: gate of pass D"));
  EXPECT_THAT(report, HasSubstr("--job-dir /srv/ingest/prod/job_2026-11-22T02-00-00 --resume\n"));
}

TEST_F(FailureReportTest, IsWrittenAtomicallyUnderItsRunStamp) {
  testing::TempDir dir;
  Result<std::filesystem::path> path = WriteFailureReport(dir.path() / "docs/bugs", Input());
  ASSERT_OK(path);
  EXPECT_EQ(path->filename(), "RUN-20261122_020000.md");
  EXPECT_EQ(testing::ReadAll(*path), RenderFailureReport(Input()));
}

}  // namespace
}  // namespace ingest
