// The status page of a real coordinator (serve, real workers) on loopback,
// read over HTTP and in a headless Chromium. The browser tests save
// screenshots of the pages under the build's test-artifacts/status-page/
// (or $INGEST_TEST_ARTIFACTS/status-page/) for a person to look at.

#include <google/protobuf/util/json_util.h>
#include <httplib.h>

#include <algorithm>
#include <cstdint>
#include <string>

#include "tests/integration/admin_fixture.h"
#include "tests/testing/web_driver.h"

namespace ingest::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kHostileDir[] = "<script>alert(1)<";
constexpr char kHostileName[] = "<script>alert(1)</script>.md";

std::filesystem::path ArtifactDir() {
  const char* root = std::getenv("INGEST_TEST_ARTIFACTS");
  std::filesystem::path dir =
      (root != nullptr && *root != '\0' ? std::filesystem::path(root) : BinDir().parent_path() / "test-artifacts") /
      "status-page";
  std::filesystem::create_directories(dir);
  return dir;
}

class WebTest : public AdminTest {
 protected:
  static std::string WebConfig() { return "web: { listen: \"127.0.0.1:0\" }\n"; }

  // serve with the status page; web_ is its host:port. `admin_extra` as
  // for StartServe.
  void StartWithPage(int workers, const std::string& admin_extra = "", const std::string& scheme = "http") {
    StartServe(admin_extra + WebConfig(), workers);
    const std::string line = WaitForLine(serve_err_, "web: status page on " + scheme + "://", Scaled(20s));
    web_ = line.substr(0, line.find('/'));
    ASSERT_FALSE(web_.empty()) << ReadAll(serve_err_);
  }

  using AdminTest::Get;
  httplib::Result Fetch(const std::string& path, const std::string& token) {
    httplib::Client client(web_);
    client.set_read_timeout(std::chrono::duration_cast<std::chrono::seconds>(Scaled(30s)).count());
    httplib::Headers headers;
    if (!token.empty()) headers.emplace("Authorization", "Bearer " + token);
    return client.Get(path, headers);
  }

  std::string Url(const std::string& path) const { return "http://" + web_ + path; }

  // Signs the browser in through the form, as a person would.
  void SignIn(Browser& browser, const std::string& path) {
    browser.Go(Url(path));
    ASSERT_EQ(browser.EvalString("return document.querySelector('h1').textContent;"), "Sign in");
    browser.Eval(
        "document.getElementById('token').value = 'read-secret-2';"
        "document.querySelector('form.login').submit(); return true;");
    WaitFor(browser, "return location.pathname === '" + path + "' && document.readyState === 'complete';");
  }

  // Polls `predicate` (a script returning a boolean) until it holds.
  static void WaitFor(Browser& browser, const std::string& predicate, std::chrono::milliseconds timeout = Scaled(20s)) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (browser.Eval(predicate) != "true") {
      ASSERT_LT(std::chrono::steady_clock::now(), deadline) << "still false: " << predicate;
      std::this_thread::sleep_for(100ms);
    }
  }

  std::string web_;
};

TEST_F(WebTest, WithoutATokenEveryPageAndApiCallIsRefusedWith401AndTheApiAnswersTheReadToken) {
  StartWithPage(1);
  for (const char* path : {"/", "/runs/run_x", "/workers", "/schedule", "/api/runs", "/api/workers"}) {
    httplib::Result answer = Fetch(path, "");
    ASSERT_TRUE(answer) << path;
    EXPECT_EQ(answer->status, 401) << path;
    EXPECT_EQ(answer->get_header_value("WWW-Authenticate"), "Bearer realm=\"ingestfleet\"") << path;
    EXPECT_EQ(Fetch(path, "wrong-token")->status, 401) << path;
  }
  EXPECT_THAT(Fetch("/", "")->body, HasSubstr("<label for=\"token\">Admin read token</label>"));
  EXPECT_EQ(Fetch("/static/style.css", "")->status, 200) << "the sign-in page needs its stylesheet";
  httplib::Client client(web_);
  httplib::Result wrong = client.Post("/login", "token=nope&next=%2Fworkers", "application/x-www-form-urlencoded");
  ASSERT_TRUE(wrong);
  EXPECT_EQ(wrong->status, 401);
  EXPECT_FALSE(wrong->has_header("Set-Cookie"));
  // The form leads back into the page only, never to another site.
  httplib::Result away =
      client.Post("/login", "token=read-secret-2&next=%2F%2Fevil.example%2F", "application/x-www-form-urlencoded");
  ASSERT_TRUE(away);
  EXPECT_EQ(away->status, 303);
  EXPECT_EQ(away->get_header_value("Location"), "/");
  EXPECT_THAT(away->get_header_value("Set-Cookie"), Not(HasSubstr("Secure"))) << "plain HTTP: no Secure flag";

  const admin::Run run = WaitEnded(Trigger().run_id());
  ASSERT_EQ(run.state(), admin::RUN_STATE_COMPLETED) << ReadAll(serve_err_);
  for (const char* token : {"read-secret-2", "operate-secret-1"}) {
    httplib::Result answer = Fetch("/api/runs", token);
    ASSERT_TRUE(answer);
    ASSERT_EQ(answer->status, 200) << answer->body;
    EXPECT_EQ(answer->get_header_value("Content-Type"), "application/json");
    admin::ListRunsResponse runs;
    ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(answer->body, &runs).ok()) << answer->body;
    ASSERT_EQ(runs.runs_size(), 1);
    EXPECT_EQ(runs.runs(0).run_id(), run.run_id());
    EXPECT_EQ(runs.runs(0).state(), admin::RUN_STATE_COMPLETED);
  }
  // The same data as the gRPC API.
  admin::Run over_http;
  ASSERT_TRUE(
      google::protobuf::util::JsonStringToMessage(Fetch("/api/runs/" + run.run_id(), "read-secret-2")->body, &over_http)
          .ok());
  EXPECT_EQ(over_http.SerializeAsString(), Get(run.run_id()).SerializeAsString());
  EXPECT_EQ(Fetch("/api/runs/run_nope", "read-secret-2")->status, 404);
  EXPECT_EQ(Fetch("/api/runs?status=bogus", "read-secret-2")->status, 400);
  admin::ListWorkersResponse workers;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(Fetch("/api/workers", "read-secret-2")->body, &workers).ok());
  EXPECT_EQ(workers.workers_size(), 1);
  admin::Schedule schedule;
  ASSERT_TRUE(
      google::protobuf::util::JsonStringToMessage(Fetch("/api/schedule", "read-secret-2")->body, &schedule).ok());
  EXPECT_EQ(schedule.cron(), "0 2 1 1 *");
  EXPECT_TRUE(schedule.has_next_run());
  EXPECT_EQ(schedule.last_success().run_id(), run.run_id());
}

TEST_F(WebTest, WithAdminTlsThePageIsServedOverHttpsOnlyAndItsCookieIsSecure) {
  ASSERT_NO_FATAL_FAILURE(MakeServerCertificate());
  StartWithPage(1, "  tls: { cert: ./server.crt, key: ./server.key }\n", "https");

  httplib::SSLClient secure(web_.substr(0, web_.rfind(':')), std::stoi(web_.substr(web_.rfind(':') + 1)));
  secure.set_ca_cert_path((dir_.path() / "server.crt").c_str());
  secure.enable_server_certificate_verification(true);
  httplib::Result runs = secure.Get("/api/runs", {{"Authorization", "Bearer read-secret-2"}});
  ASSERT_TRUE(runs) << httplib::to_string(runs.error());
  EXPECT_EQ(runs->status, 200) << runs->body;
  EXPECT_EQ(secure.Get("/api/runs")->status, 401);
  httplib::Result login =
      secure.Post("/login", "token=read-secret-2&next=%2Fworkers", "application/x-www-form-urlencoded");
  ASSERT_TRUE(login);
  EXPECT_EQ(login->status, 303);
  EXPECT_EQ(login->get_header_value("Location"), "/workers");
  EXPECT_THAT(login->get_header_value("Set-Cookie"), HasSubstr("; Secure"));
  EXPECT_THAT(login->get_header_value("Set-Cookie"), HasSubstr("HttpOnly; SameSite=Strict"));

  httplib::Result plain = Fetch("/api/runs", "read-secret-2");
  EXPECT_TRUE(!plain || plain->status != 200) << "plain HTTP was answered";
}

TEST_F(WebTest, TheRunsPageListsACompletedAndAPartialRunAndTheFailureShowsTheBrokenFileAsText) {
  if (std::string missing = Browser::Missing(); !missing.empty()) GTEST_SKIP() << missing;
  StartWithPage(2);
  const admin::Run completed = WaitEnded(Trigger().run_id());
  ASSERT_EQ(completed.state(), admin::RUN_STATE_COMPLETED) << ReadAll(serve_err_);
  // A file whose name is markup, with content no extractor takes.
  std::filesystem::create_directories(corpus_ / kHostileDir);
  constexpr char kBinary[] = "# x\n\0\0\0 binary";
  std::ofstream(corpus_ / kHostileName) << std::string(kBinary, sizeof(kBinary) - 1);
  const admin::Run partial = WaitEnded(Trigger().run_id());
  ASSERT_EQ(partial.state(), admin::RUN_STATE_PARTIAL) << ReadAll(serve_err_);

  Browser browser(dir_.path() / "browser");
  ASSERT_TRUE(browser.ok());
  SignIn(browser, "/");
  EXPECT_EQ(browser.Eval("return document.querySelectorAll('table.runs tbody tr').length;"), "2");
  const std::string rows = browser.EvalString("return document.querySelector('table.runs tbody').innerText;");
  EXPECT_THAT(rows, HasSubstr(completed.run_id()));
  EXPECT_THAT(rows, HasSubstr("completed"));
  EXPECT_THAT(rows, HasSubstr(partial.run_id()));
  EXPECT_THAT(rows, HasSubstr("partial"));
  browser.Screenshot(ArtifactDir() / "runs.png");

  // The filter keeps the partial run only.
  browser.Go(Url("/?status=partial"));
  EXPECT_EQ(browser.Eval("return document.querySelectorAll('table.runs tbody tr').length;"), "1");

  browser.Go(Url("/runs/" + partial.run_id()));
  const std::string failures = browser.EvalString("return document.querySelector('table.failures').innerText;");
  EXPECT_THAT(failures, HasSubstr(std::string("corpus/") + kHostileName));
  EXPECT_THAT(failures, HasSubstr("binary content"));
  EXPECT_EQ(browser.Eval("return document.querySelectorAll('main script, main img').length;"), "0")
      << "the file's name became markup";
  EXPECT_THAT(browser.EvalString("return document.querySelector('main').innerText;"), HasSubstr("--resume-from A"));
  EXPECT_THAT(browser.EvalString("return document.querySelector('article.report').innerText;"),
              HasSubstr(kHostileName));
  browser.Screenshot(ArtifactDir() / "run.png");

  // On a phone the page reflows: wide tables scroll in their own box, the
  // page itself never scrolls sideways.
  browser.Resize(390, 844);
  browser.Go(Url("/runs/" + partial.run_id()));
  EXPECT_EQ(browser.Eval("return document.documentElement.scrollWidth <= window.innerWidth;"), "true")
      << "the run page is wider than a phone: " << browser.Eval("return document.documentElement.scrollWidth;")
      << browser.Eval(
             "var out = []; document.querySelectorAll('body *').forEach(function (e) { var r = "
             "e.getBoundingClientRect(); if (r.right > window.innerWidth && !e.closest('.scroll')) out.push(e.tagName "
             "+ '.' + e.className + ':' + Math.round(r.right)); }); return out.slice(0, 12).join(' ');");
  browser.Screenshot(ArtifactDir() / "run-phone.png");
  browser.Resize(1200, 1000);

  browser.Go(Url("/workers"));
  EXPECT_EQ(browser.Eval("return document.querySelectorAll('table.workers tbody tr').length;"), "2");
  browser.Screenshot(ArtifactDir() / "workers.png");
  browser.Go(Url("/schedule"));
  EXPECT_THAT(browser.EvalString("return document.querySelector('dl').innerText;"), HasSubstr(completed.run_id()));
  browser.Screenshot(ArtifactDir() / "schedule.png");

  // Signing out ends the session: the next page asks for the token again.
  browser.Eval("document.querySelector('form.signout').submit(); return true;");
  WaitFor(browser, "return location.pathname === '/login' && document.readyState === 'complete';");
  browser.Go(Url("/workers"));
  EXPECT_EQ(browser.EvalString("return document.querySelector('h1').textContent;"), "Sign in");
}

TEST_F(WebTest, ARunningRunsPageShowsPassCAdvanceWithoutAReload) {
  if (std::string missing = Browser::Missing(); !missing.empty()) GTEST_SKIP() << missing;
  // The worker is stopped and let go by the test, so its heartbeats may be
  // missed for seconds without it being declared dead.
  liveness_ = 100;
  WriteCorpus(1500, 1);
  StartWithPage(0);
  StartWorker();
  ASSERT_FALSE(WaitForLine(serve_err_, "joined", Scaled(20s)).empty()) << ReadAll(serve_err_);
  Subprocess& worker = *workers_.front();

  admin::RunFlags full;
  full.set_full_refresh(true);
  const admin::Run run = Trigger(full);
  // Pass C starts: the worker is stopped, so the page sees it still.
  const auto deadline = std::chrono::steady_clock::now() + Scaled(120s);
  auto pass_c = [](const admin::Run& r) {
    for (const admin::PassStatus& p : r.passes()) {
      if (p.pass() == "C") return p;
    }
    return admin::PassStatus();
  };
  while (pass_c(Get(run.run_id())).status() != "RUNNING") {
    ASSERT_LT(std::chrono::steady_clock::now(), deadline) << ReadAll(serve_err_);
    std::this_thread::sleep_for(2ms);
  }
  worker.Signal(SIGSTOP);
  // The coordinator reports progress every 500 ms, so tasks the worker ended
  // just before it stopped may still be on their way: the count is taken once
  // it has stood still for three report periods.
  admin::PassStatus stopped_at = pass_c(Get(run.run_id()));
  for (auto still_since = std::chrono::steady_clock::now(); std::chrono::steady_clock::now() - still_since < 1500ms;) {
    ASSERT_LT(std::chrono::steady_clock::now(), deadline) << ReadAll(serve_err_);
    std::this_thread::sleep_for(50ms);
    const admin::PassStatus now = pass_c(Get(run.run_id()));
    if (now.tasks_done() != stopped_at.tasks_done()) still_since = std::chrono::steady_clock::now();
    stopped_at = now;
  }
  ASSERT_LT(stopped_at.tasks_done(), stopped_at.tasks_total()) << "pass C ended before the worker was stopped";

  Browser browser(dir_.path() / "browser");
  ASSERT_TRUE(browser.ok());
  SignIn(browser, "/runs/" + run.run_id());
  EXPECT_EQ(browser.EvalString("return document.querySelector('[data-field=state]').textContent.trim();"),
            "\xE2\x9F\xB3 running");
  const std::string before = browser.Eval("return document.getElementById('progress-C').value;");
  // A mark the page loses if it reloads.
  browser.Eval("window.ingestMark = 'no reload'; return true;");
  browser.Screenshot(ArtifactDir() / "run-running.png");

  // The worker works a little and stops again, slice after slice, until the
  // coordinator counts a task more: the bar then moves on its own. (One
  // fixed slice was too short for a sanitizer build on a busy machine;
  // letting it run until progress shows, too long for a Release build: the
  // coordinator reports progress every 500 ms.)
  // The page's own count is the mark to pass: it is what the bar must leave.
  const std::int64_t shown_before = std::max<std::int64_t>(std::stoll(before), stopped_at.tasks_done());
  admin::PassStatus moved = stopped_at;
  while (moved.tasks_done() <= shown_before) {
    ASSERT_LT(std::chrono::steady_clock::now(), deadline) << ReadAll(serve_err_);
    worker.Signal(SIGCONT);
    std::this_thread::sleep_for(20ms);
    worker.Signal(SIGSTOP);
    const auto reported = std::chrono::steady_clock::now() + 700ms;
    do {
      std::this_thread::sleep_for(20ms);
      moved = pass_c(Get(run.run_id()));
    } while (moved.tasks_done() <= shown_before && std::chrono::steady_clock::now() < reported);
  }
  ASSERT_LT(moved.tasks_done(), moved.tasks_total()) << "pass C ended before the worker was stopped again";
  WaitFor(browser, "return document.getElementById('progress-C').value > " + before + ";");
  EXPECT_EQ(browser.EvalString("return window.ingestMark || 'reloaded';"), "no reload");
  EXPECT_EQ(browser.EvalString("return document.querySelector('tr[data-pass=C] [data-field=status]').textContent;"),
            "running");
  const std::string shown =
      browser.EvalString("return document.querySelector('tr[data-pass=C] [data-field=done]').textContent;");
  EXPECT_THAT(shown, HasSubstr(" / " + std::to_string(stopped_at.tasks_total())));

  // Let go, the run ends and the page shows it ended (it reloads once then).
  worker.Signal(SIGCONT);
  const admin::Run ended = WaitEnded(run.run_id());
  ASSERT_EQ(ended.state(), admin::RUN_STATE_COMPLETED) << ReadAll(serve_err_);
  WaitFor(browser,
          "var s = document.querySelector('[data-field=state]'); return !!s && /completed/.test(s.textContent);");
}

}  // namespace
}  // namespace ingest::testing
