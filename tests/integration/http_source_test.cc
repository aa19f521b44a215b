// http sources with the real binaries against a real HTTP server on
// loopback: pages fetched by workers, conditional requests (ETag and
// Last-Modified), retries of 5xx, the per-source rate limit, a changed page
// as a change event, and a page that cannot be fetched.

#include <sqlite3.h>

#include <atomic>
#include <thread>

#include "tests/integration/job_fixture.h"
#include "tests/testing/http_recorder.h"

namespace ingest {
namespace {

using ::testing::HasSubstr;
using testing::HttpRecorder;
using testing::RecordedRequest;
using testing::Reply;
using testing::RunOutcome;

class HttpSourceTest : public testing::JobTest {
 protected:
  void WriteHttpConfig(const std::vector<std::string>& paths, int requests_per_minute) {
    keep_config_ = true;
    std::ofstream config(dir_.path() / "ingest.yaml");
    config << "env: itest\n"
              "artifact_root: ./artifacts\n"
              "fleet: { bind: \"tcp://127.0.0.1:*\", heartbeat_ms: 200, liveness: "
           << testing::FleetLiveness()
           << ", min_workers: 1, wait_for_workers_s: 20 }\n"
              "retry: { attempts: 3, backoff_initial_ms: 50 }\n"
              "sources:\n"
              "  - name: site\n"
              "    kind: http\n"
              "    timeout_s: 5\n"
              "    rate_limit: { requests_per_minute: "
           << requests_per_minute << " }\n    urls:\n";
    for (const std::string& path : paths) config << "      - \"" << server_.url(path) << "\"\n";
    config << "passes:\n  C: { chunk_chars: 400, overlap_chars: 60 }\n";
  }

  RunSummary RunExpecting(int exit_code, int workers = 1) {
    RunOutcome outcome = Run({}, workers);
    EXPECT_EQ(outcome.exit_code, exit_code) << outcome.stderr_text;
    last_stderr_ = outcome.stderr_text;
    return Summary(outcome);
  }

  std::string Chunks(const RunSummary& summary) {
    return testing::ReadAll(std::filesystem::path(summary.job_dir()) / ArtifactFileName(Pass::PASS_C));
  }

  std::vector<std::string> ChangeEvents() {
    std::vector<std::string> events;
    sqlite3* db = nullptr;
    sqlite3_open_v2((dir_.path() / "state" / "ingest.db").c_str(), &db, SQLITE_OPEN_READONLY, nullptr);
    sqlite3_stmt* stmt = nullptr;
    sqlite3_prepare_v2(db, "SELECT change, path FROM change_events ORDER BY id", -1, &stmt, nullptr);
    while (sqlite3_step(stmt) == SQLITE_ROW) {
      events.push_back(std::string(reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0))) + " " +
                       reinterpret_cast<const char*>(sqlite3_column_text(stmt, 1)));
    }
    sqlite3_finalize(stmt);
    sqlite3_close(db);
    return events;
  }

  HttpRecorder server_;
  std::string last_stderr_;
};

// A page whose body and ETag a test can change; 304 when the client's
// If-None-Match is current.
struct EtagPage {
  std::atomic<int> version{1};
  std::atomic<bool> broken{false};
  Reply operator()(const RecordedRequest& request, size_t) const {
    if (broken) return Reply{500, "internal error\n"};
    const std::string etag = "\"policy-v" + std::to_string(version.load()) + "\"";
    if (request.Header("if-none-match") == etag) return Reply{304, "", "text/html", {{"ETag", etag}}};
    return Reply{200,
                 "<html><head><title>Policy</title></head><body><h1>Travel policy</h1><p>Version " +
                     std::to_string(version.load()) + ": book trains for trips under five hours.</p></body></html>",
                 "text/html; charset=utf-8",
                 {{"ETag", etag}}};
  }
};

TEST_F(HttpSourceTest, PagesAreFetchedByWorkersConditionallyRetriedAndTrackedForChanges) {
  auto policy = std::make_shared<EtagPage>();
  server_.Handle("/policy", [policy](const RecordedRequest& r, size_t n) { return (*policy)(r, n); });
  const std::string modified = "Mon, 02 Nov 2026 08:00:00 GMT";
  server_.Handle("/guide.md", [modified](const RecordedRequest& r, size_t) {
    if (r.Header("if-modified-since") == modified) return Reply{304, ""};
    return Reply{200,
                 "# Guide\n\nExpense reports are due within thirty days.\n",
                 "text/markdown",
                 {{"Last-Modified", modified}}};
  });
  // Two server errors, then the page.
  server_.Handle("/flaky", [](const RecordedRequest&, size_t n) {
    if (n <= 2) return Reply{503, "try later\n"};
    return Reply{200, "Flaky page: the cafeteria opens at eight.\n", "text/plain", {{"ETag", "\"f1\""}}};
  });
  WriteHttpConfig({"/policy", "/guide.md", "/flaky"}, 6000);

  RunSummary first = RunExpecting(0);
  EXPECT_EQ(first.documents().new_(), 3u);
  EXPECT_EQ(first.documents().processed(), 3u);
  EXPECT_GE(first.tasks().retried(), 2u);
  EXPECT_EQ(server_.Requests("/flaky").size(), 3u);
  EXPECT_EQ(server_.Requests("/policy").size(), 1u);
  EXPECT_EQ(server_.Requests("/policy")[0].Header("if-none-match"), "");
  EXPECT_THAT(server_.Requests("/policy")[0].Header("user-agent"), HasSubstr("ingestfleet/"));
  std::string chunks = Chunks(first);
  EXPECT_THAT(chunks, HasSubstr("book trains for trips under five hours"));
  EXPECT_THAT(chunks, HasSubstr("Expense reports are due within thirty days"));
  EXPECT_THAT(chunks, HasSubstr("the cafeteria opens at eight"));

  // A dry run lists what it would fetch and fetches nothing.
  const size_t requests_before_dry_run = server_.Requests("/policy").size();
  RunOutcome plan = Run({"--dry-run"}, 0);
  EXPECT_EQ(plan.exit_code, 0) << plan.stderr_text;
  EXPECT_THAT(plan.stdout_text, HasSubstr("fetch  " + server_.url("/policy")));
  EXPECT_EQ(server_.Requests("/policy").size(), requests_before_dry_run);

  // Unchanged pages: conditional requests, 304s, nothing processed, the same artifacts.
  RunSummary second = RunExpecting(0);
  EXPECT_EQ(second.documents().unchanged(), 3u);
  EXPECT_EQ(second.documents().processed(), 0u);
  EXPECT_EQ(second.changes_detected(), 0u);
  ASSERT_EQ(server_.Requests("/policy").size(), 2u);
  EXPECT_EQ(server_.Requests("/policy")[1].Header("if-none-match"), "\"policy-v1\"");
  EXPECT_EQ(server_.Requests("/guide.md").back().Header("if-modified-since"), modified);
  EXPECT_EQ(server_.Requests("/flaky").back().Header("if-none-match"), "\"f1\"");
  EXPECT_EQ(Artifacts(first.job_dir()), Artifacts(second.job_dir()));

  // A changed page is a change event and reaches the artifacts.
  policy->version = 2;
  RunSummary third = RunExpecting(0);
  EXPECT_EQ(third.documents().changed(), 1u);
  EXPECT_EQ(third.documents().processed(), 1u);
  EXPECT_EQ(third.documents().unchanged(), 2u);
  EXPECT_EQ(third.changes_detected(), 1u);
  EXPECT_THAT(Chunks(third), HasSubstr("Version 2: book trains"));
  EXPECT_THAT(ChangeEvents(), ::testing::Contains(HasSubstr("modified 127.0.0.1_")));

  // A page that keeps failing: the run is partial, the error names the URL,
  // and the page's last version stays in the artifacts.
  policy->broken = true;
  const size_t before = server_.Requests("/policy").size();
  RunSummary fourth = RunExpecting(3);
  EXPECT_EQ(server_.Requests("/policy").size() - before, 3u) << "retry.attempts is 3";
  ASSERT_GT(fourth.errors().first_size(), 0);
  EXPECT_THAT(fourth.errors().first(0), HasSubstr(server_.url("/policy")));
  EXPECT_THAT(fourth.errors().first(0), HasSubstr("HTTP 500"));
  EXPECT_THAT(Chunks(fourth), HasSubstr("Version 2: book trains"));
}

TEST_F(HttpSourceTest, RateLimitSpacesRequestsToOneSourceAndA404FailsOnlyItsPage) {
  for (const char* path : {"/a", "/b", "/c"}) {
    server_.Handle(path, [path](const RecordedRequest&, size_t) {
      return Reply{200, std::string("Page ") + path + " says hello to the fleet.\n"};
    });
  }
  // 120 a minute: one request every 500 ms, across both workers.
  WriteHttpConfig({"/a", "/b", "/c", "/missing"}, 120);
  RunSummary summary = RunExpecting(3, 2);
  EXPECT_EQ(summary.documents().processed(), 3u);
  ASSERT_GT(summary.errors().first_size(), 0);
  EXPECT_THAT(summary.errors().first(0), HasSubstr(server_.url("/missing") + ": HTTP 404"));
  EXPECT_EQ(server_.Requests("/missing").size(), 1u) << "a 404 is permanent: not retried";

  std::vector<std::chrono::steady_clock::time_point> times;
  for (const char* path : {"/a", "/b", "/c", "/missing"}) {
    for (const RecordedRequest& r : server_.Requests(path)) times.push_back(r.at);
  }
  ASSERT_EQ(times.size(), 4u);
  std::sort(times.begin(), times.end());
  for (size_t i = 1; i < times.size(); ++i) {
    EXPECT_GE(times[i] - times[i - 1], std::chrono::milliseconds(450)) << "between request " << i << " and " << i + 1;
  }
}

TEST_F(HttpSourceTest, ARequestThatTimesOutIsRetried) {
  // The first answer comes after the source's 1 s timeout.
  server_.Handle("/slow", [](const RecordedRequest&, size_t n) {
    if (n == 1) std::this_thread::sleep_for(std::chrono::milliseconds(2500));
    return Reply{200, "A slow page, eventually complete.\n"};
  });
  WriteHttpConfig({"/slow"}, 6000);
  std::string config = testing::ReadAll(dir_.path() / "ingest.yaml");
  config.replace(config.find("timeout_s: 5"), 12, "timeout_s: 1");
  std::ofstream(dir_.path() / "ingest.yaml") << config;
  RunSummary summary = RunExpecting(0);
  EXPECT_EQ(summary.documents().processed(), 1u);
  EXPECT_GE(summary.tasks().retried(), 1u);
  EXPECT_EQ(server_.Requests("/slow").size(), 2u);
  EXPECT_THAT(last_stderr_, HasSubstr("timed out"));
  EXPECT_THAT(Chunks(summary), HasSubstr("A slow page, eventually complete."));
}

}  // namespace
}  // namespace ingest
