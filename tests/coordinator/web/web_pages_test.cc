#include "coordinator/web/web_pages.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "coordinator/web/html.h"

namespace ingest {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kHostileName[] = "<script>alert(1)</script>.md";

google::protobuf::Timestamp At(int64_t seconds) {
  google::protobuf::Timestamp t;
  t.set_seconds(seconds);
  return t;
}

const WallTime kNow = WallTime(std::chrono::seconds(1'800'000'100));

admin::Run EndedRun(const std::string& id, admin::RunState state) {
  admin::Run run;
  run.set_run_id(id);
  run.set_env("prod");
  run.set_state(state);
  run.set_trigger(admin::TRIGGER_SCHEDULE);
  *run.mutable_start_time() = At(1'800'000'000);
  *run.mutable_end_time() = At(1'800'000'042);
  run.set_exit_code(state == admin::RUN_STATE_COMPLETED ? 0 : 3);
  run.mutable_summary()->mutable_documents()->set_processed(120);
  run.mutable_summary()->mutable_documents()->set_failed(state == admin::RUN_STATE_COMPLETED ? 0 : 2);
  run.mutable_summary()->set_changes_detected(7);
  return run;
}

TEST(HtmlTest, EscapesEveryMarkupCharacterAndReplacesBytesThatAreNotUtf8) {
  EXPECT_EQ(Escaped(kHostileName), "&lt;script&gt;alert(1)&lt;/script&gt;.md");
  EXPECT_EQ(Escaped("a\"b'c&d"), "a&quot;b&#39;c&amp;d");
  EXPECT_EQ(Escaped("caf\xE9<"), "caf\xEF\xBF\xBD&lt;");
  EXPECT_EQ(Escaped("Zürich"), "Zürich");
}

TEST(HtmlTest, MarkdownKeepsItsStructureButMakesNoMarkupOfItsText) {
  const std::string html = MarkdownToHtml(
      "# Run r1: partial\n\n| | |\n|---|---|\n| env | prod |\n\n## Failed\n\n- `notes/" + std::string(kHostileName) +
      "`: <img src=x onerror=alert(2)> [click](javascript:alert(3)) ![i](http://example.org/x.png)\n\n"
      "```\ningest-coordinator run --resume\n```\n");
  EXPECT_THAT(html, HasSubstr("<h3>Run r1: partial</h3>"));
  EXPECT_THAT(html, HasSubstr("<td>env</td><td>prod</td>"));
  EXPECT_THAT(html, HasSubstr("<h4>Failed</h4>"));
  EXPECT_THAT(html, HasSubstr("<code>notes/&lt;script&gt;alert(1)&lt;/script&gt;.md</code>"));
  EXPECT_THAT(html, HasSubstr("&lt;img src=x onerror=alert(2)&gt;"));
  EXPECT_THAT(html, HasSubstr("click"));
  EXPECT_THAT(html, HasSubstr("<pre><code>ingest-coordinator run --resume\n</code></pre>"));
  EXPECT_THAT(html, Not(HasSubstr("<script")));
  EXPECT_THAT(html, Not(HasSubstr("<img")));
  EXPECT_THAT(html, Not(HasSubstr("href")));
  EXPECT_THAT(html, Not(HasSubstr("javascript:")));
}

TEST(WebPagesTest, TheRunsPageListsRunsWithStateWordsFiguresAndTheNextPage) {
  admin::ListRunsResponse runs;
  *runs.add_runs() = EndedRun("run_2", admin::RUN_STATE_PARTIAL);
  *runs.add_runs() = EndedRun("run_1", admin::RUN_STATE_COMPLETED);
  admin::Run running;
  running.set_run_id("run_3");
  running.set_state(admin::RUN_STATE_RUNNING);
  *running.mutable_start_time() = At(1'800'000'070);
  *runs.add_runs() = running;
  runs.set_next_page_token("tok&<en>");
  const std::string html = RenderRunsPage({.env = "prod"}, runs, admin::RUN_STATE_UNSPECIFIED, kNow);
  EXPECT_THAT(html, HasSubstr("<a href=\"/runs/run_2\">run_2</a>"));
  EXPECT_THAT(html, HasSubstr("class=\"badge partial\""));
  EXPECT_THAT(html, HasSubstr("</span> completed</span>"));
  EXPECT_THAT(html, HasSubstr("<td class=\"num bad\">2</td>"));
  EXPECT_THAT(html, HasSubstr("42.0 s"));
  EXPECT_THAT(html, HasSubstr("30.0 s")) << "a running run's duration runs to now";
  EXPECT_THAT(html, HasSubstr("href=\"/?page_token=tok&amp;&lt;en&gt;\""));
  EXPECT_THAT(html, HasSubstr("<title>Runs · ingestfleet prod</title>"));
  EXPECT_THAT(html, Not(HasSubstr("data-live"))) << "only a running run's page polls";

  const std::string failed = RenderRunsPage({}, {}, admin::RUN_STATE_FAILED, kNow);
  EXPECT_THAT(failed, HasSubstr("<option value=\"failed\" selected>"));
  EXPECT_THAT(failed, HasSubstr("No failed runs."));
}

TEST(WebPagesTest, StateWordsRoundTripAndUnknownWordsFilterNothing) {
  for (admin::RunState state : {admin::RUN_STATE_RUNNING, admin::RUN_STATE_QUEUED, admin::RUN_STATE_COMPLETED,
                                admin::RUN_STATE_PARTIAL, admin::RUN_STATE_FAILED, admin::RUN_STATE_CANCELLED}) {
    EXPECT_EQ(StateOfWord(StateWord(state)), state);
  }
  EXPECT_EQ(StateOfWord("bogus"), admin::RUN_STATE_UNSPECIFIED);
  EXPECT_EQ(StateOfWord(""), admin::RUN_STATE_UNSPECIFIED);
}

TEST(WebPagesTest, TheRunPageEscapesDocumentsErrorsAndTheReport) {
  admin::Run run = EndedRun("run_9", admin::RUN_STATE_PARTIAL);
  run.set_job_dir("/srv/jobs/<job>");
  run.set_cancel_reason("\"quoted\" & <b>bold</b>");
  admin::PassStatus* c = run.add_passes();
  c->set_pass("C");
  c->set_status("SUCCESS");
  c->set_tasks_total(10);
  c->set_tasks_done(10);
  admin::RunFailures failures;
  admin::FailureGroup* group = failures.add_groups();
  group->set_pass("A");
  group->set_error_class("invalid_<document>");
  DocumentRecord* doc = group->add_documents();
  doc->set_source("notes");
  doc->set_path(kHostileName);
  doc->set_error("binary content in <b>" + std::string(kHostileName) + "</b>");
  failures.mutable_changes()->set_new_(3);
  failures.set_resume_command("ingest-coordinator run --job-dir '/srv/<x>' --resume-from A");
  const std::string html =
      RenderRunPage({.env = "prod"}, run, failures, "# Report\n\n- `notes/" + std::string(kHostileName) + "`\n", kNow);
  EXPECT_THAT(html, Not(HasSubstr("<script>")));
  EXPECT_THAT(html, Not(HasSubstr("<b>")));
  EXPECT_THAT(html, HasSubstr("<code>notes/&lt;script&gt;alert(1)&lt;/script&gt;.md</code>"));
  EXPECT_THAT(html, HasSubstr("binary content in &lt;b&gt;&lt;script&gt;"));
  EXPECT_THAT(html, HasSubstr("<h3>Pass A — invalid_&lt;document&gt; (1)</h3>"));
  EXPECT_THAT(html, HasSubstr("&quot;quoted&quot; &amp; &lt;b&gt;bold&lt;/b&gt;"));
  EXPECT_THAT(html, HasSubstr("/srv/jobs/&lt;job&gt;"));
  EXPECT_THAT(html, HasSubstr("--job-dir &#39;/srv/&lt;x&gt;&#39; --resume-from A"));
  EXPECT_THAT(html, HasSubstr("ingestctl resume run_9"));
  EXPECT_THAT(html, HasSubstr("3 new, 0 changed"));
  EXPECT_THAT(html, HasSubstr("<progress id=\"progress-C\" max=\"10\" value=\"10\""));
  EXPECT_THAT(html, HasSubstr("<h3>Report</h3>"));
  EXPECT_THAT(html, Not(HasSubstr("data-live")));
}

TEST(WebPagesTest, ARunningRunsPagePollsItsJsonAndAPassWithoutTasksHasABar) {
  admin::Run run;
  run.set_run_id("run_5");
  run.set_state(admin::RUN_STATE_RUNNING);
  run.set_exit_code(-1);
  admin::PassStatus* a = run.add_passes();
  a->set_pass("A");
  a->set_status("PENDING");
  const std::string html = RenderRunPage({}, run, {}, "", kNow);
  EXPECT_THAT(html, HasSubstr("<main data-live=\"/api/runs/run_5\">"));
  EXPECT_THAT(html, HasSubstr("max=\"1\" value=\"0\"")) << "a progress element needs a positive max";
  EXPECT_THAT(html, HasSubstr("Failed documents (0)"));
  EXPECT_THAT(html, Not(HasSubstr("Exit code")));
  EXPECT_THAT(html, Not(HasSubstr("<h2>Resume</h2>")));
}

TEST(WebPagesTest, TheWorkersPageShowsEveryFigureAndEscapesIds) {
  admin::ListWorkersResponse workers;
  admin::Worker* w = workers.add_workers();
  w->set_worker_id("<w1>");
  w->set_peer_address("10.0.0.7");
  w->set_version("1.2.3");
  w->set_slots(4);
  w->set_tasks_in_flight(3);
  w->set_tasks_done(1234);
  *w->mutable_last_heartbeat() = At(1'800'000'098);
  w->set_draining(true);
  const std::string html = RenderWorkersPage({}, workers, kNow);
  EXPECT_THAT(html, HasSubstr("<th scope=\"row\">&lt;w1&gt;</th><td>10.0.0.7</td><td>1.2.3</td>"));
  EXPECT_THAT(html, HasSubstr("1 workers, 4 slots, 3 tasks in flight."));
  EXPECT_THAT(html, HasSubstr(">1234<"));
  EXPECT_THAT(html, HasSubstr("2.0 s ago"));
  EXPECT_THAT(html, HasSubstr("draining"));
  EXPECT_THAT(RenderWorkersPage({}, {}, kNow), HasSubstr("No workers are connected"));
}

TEST(WebPagesTest, TheSchedulePageShowsTheNextFiringInItsZoneAndTheLastSuccess) {
  admin::Schedule schedule;
  schedule.set_cron("0 2 * * *");
  schedule.set_timezone("Europe/Paris");
  *schedule.mutable_next_run() = At(1'800'003'700);
  schedule.set_next_run_local("2027-01-15 09:08:20 CET");
  *schedule.mutable_last_success() = EndedRun("run_ok", admin::RUN_STATE_COMPLETED);
  schedule.set_scheduled_here(true);
  const std::string html = RenderSchedulePage({}, schedule, kNow);
  EXPECT_THAT(html, HasSubstr("2027-01-15 09:08:20 CET, in 1 h 00 min"));
  EXPECT_THAT(html, HasSubstr("<a href=\"/runs/run_ok\">run_ok</a>, ended"));
  EXPECT_THAT(html, HasSubstr("this coordinator"));
  EXPECT_THAT(html, HasSubstr("Last run</dt><dd>none yet"));
}

TEST(WebPagesTest, TheSignInPageKeepsWhereItLeadsEscaped) {
  const std::string html = RenderLoginPage("/runs/x\"><script>", true);
  EXPECT_THAT(html, HasSubstr("value=\"/runs/x&quot;&gt;&lt;script&gt;\""));
  EXPECT_THAT(html, HasSubstr("role=\"alert\""));
  EXPECT_THAT(html, HasSubstr("<label for=\"token\">"));
}

}  // namespace
}  // namespace ingest
