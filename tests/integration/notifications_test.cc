// A run's notifications with the real binaries against real servers on
// loopback: an HTTP server (cpp-httplib) standing in for Slack, a webhook
// receiver, a health-check service and an OpenAI-compatible endpoint, and a
// real SMTP server (aiosmtpd). Secrets come from the environment and must
// not appear in any file the run writes.

#include "coordinator/notify/notifications.h"

#include <regex>

#include "common/proto_json.h"
#include "common/sha256.h"
#include "tests/integration/job_fixture.h"
#include "tests/testing/http_recorder.h"
#include "tests/testing/smtp_server.h"

namespace ingest {
namespace {

using ::testing::HasSubstr;
using testing::HttpRecorder;
using ::testing::Not;
using testing::RecordedRequest;
using testing::Reply;
using testing::RunOutcome;

const char kSlackPath[] = "/slack/T0SECRET/B0SECRET/xoxSECRETtoken";
const char kHookPath[] = "/hook/SECRETpath";
const char kHealthPath[] = "/hc/SECRET-uuid-1234";
const char kWebhookSecret[] = "hook-secret-SECRET-42";
const char kApiKey[] = "sk-test-SECRET-key-0001";

class NotificationsTest : public testing::JobTest {
 protected:
  void SetUp() override {
    JobTest::SetUp();
    // Two broken PDFs among the good documents: the run ends partial.
    dir_.Write("corpus/broken-a.pdf", "%PDF-1.4\n" + std::string(3000, '\x7f') + "\n%%EOF\n");
    dir_.Write("corpus/broken-b.pdf", "%PDF-1.7\nnot really a PDF at all\n%%EOF\n");
  }

  // Points every channel at `http_port` and `smtp_port`.
  void Configure(int http_port, int smtp_port, int attempts, const std::string& starttls = "off") {
    const std::string base = "http://127.0.0.1:" + std::to_string(http_port);
    coordinator_env_ = {"SLACK_WEBHOOK_URL=" + base + kSlackPath,
                        "NOTIFICATION_WEBHOOK=" + base + kHookPath,
                        std::string("WEBHOOK_SECRET=") + kWebhookSecret,
                        "SMTP_USER=smtp-user-SECRET",
                        "SMTP_PASSWORD=smtp-pass-SECRET",
                        "HEALTHCHECK_URL=" + base + kHealthPath,
                        "AI_BASE_URL=" + base + "/v1",
                        std::string("OPENAI_API_KEY=") + kApiKey};
    extra_config_ =
        "report_dir: ./reports\n"
        "notifications:\n"
        "  on: [failed, partial]\n"
        "  slack: { webhook_url: \"${SLACK_WEBHOOK_URL}\" }\n"
        "  webhook: { url: \"${NOTIFICATION_WEBHOOK}\", secret: \"${WEBHOOK_SECRET}\" }\n"
        "  email:\n"
        "    smtp_url: \"smtp://127.0.0.1:" +
        std::to_string(smtp_port) +
        "\"\n"
        "    starttls: \"" +
        starttls +
        "\"\n"
        "    username: \"${SMTP_USER}\"\n"
        "    password: \"${SMTP_PASSWORD}\"\n"
        "    from: ingest@example.org\n"
        "    to: [ops@example.org, data-team@example.org]\n"
        "  healthcheck_url: \"${HEALTHCHECK_URL}\"\n"
        "  attempts: " +
        std::to_string(attempts) +
        "\n"
        "  backoff_initial_ms: 20\n"
        "  timeout_s: 5\n"
        "ai_report: { base_url: \"${AI_BASE_URL}\", model: test-model, timeout_s: 5 }\n";
  }

  std::vector<std::filesystem::path> Reports() {
    std::vector<std::filesystem::path> reports;
    std::error_code ec;
    for (const auto& e : std::filesystem::directory_iterator(dir_.path() / "reports", ec)) reports.push_back(e.path());
    return reports;
  }

  // No secret and no e-mail address in any file the run wrote: artifacts,
  // manifest, run log, report, state store, the coordinator's own output.
  void ExpectNoSecretsWritten() {
    const std::vector<std::string> secrets = {
        "T0SECRET",         "SECRETpath", kWebhookSecret,    "smtp-user-SECRET",      "smtp-pass-SECRET",
        "SECRET-uuid-1234", kApiKey,      "ops@example.org", "data-team@example.org", "ingest@example.org"};
    size_t files = 0;
    for (const auto& e : std::filesystem::recursive_directory_iterator(dir_.path())) {
      if (!e.is_regular_file() || e.path().filename() == "ingest.yaml") continue;
      if (e.path().string().find("/smtp/") != std::string::npos) continue;  // what the server received
      ++files;
      const std::string content = testing::ReadAll(e.path());
      for (const std::string& secret : secrets) {
        EXPECT_EQ(content.find(secret), std::string::npos) << secret << " in " << e.path();
      }
    }
    EXPECT_GT(files, 10u);
  }

  void ServeAi(HttpRecorder& server) {
    server.Handle("/v1/chat/completions", [](const RecordedRequest&, size_t) {
      return Reply{200,
                   R"({"id":"c1","object":"chat.completion","choices":[{"index":0,"message":{"role":"assistant",)"
                   R"("content":"Both failures are files named .pdf that are not PDFs: re-export them."},)"
                   R"("finish_reason":"stop"}]})",
                   "application/json"};
    });
  }
};

TEST_F(NotificationsTest, APartialRunSendsOneMessagePerChannelSignedPingedAndReportedWithAnAiSection) {
  HttpRecorder server;
  for (const char* path : {kSlackPath, kHookPath}) {
    server.Handle(path, [](const RecordedRequest&, size_t) { return Reply{200, "ok"}; });
  }
  for (const std::string suffix : {"/start", "/3", ""}) {
    server.Handle(kHealthPath + suffix, [](const RecordedRequest&, size_t) { return Reply{200, "OK"}; });
  }
  ServeAi(server);
  testing::SmtpServer smtp(dir_.path() / "smtp");
  ASSERT_TRUE(smtp.ready()) << testing::ReadAll(dir_.path() / "smtp" / "smtpd.err");
  Configure(server.port(), smtp.port(), 3);

  RunOutcome outcome = Run({}, 2);
  ASSERT_EQ(outcome.exit_code, 3) << outcome.stderr_text;
  RunSummary summary = Summary(outcome);
  EXPECT_EQ(summary.documents().failed(), 2u);

  std::vector<RecordedRequest> slack = server.Requests(kSlackPath);
  ASSERT_EQ(slack.size(), 1u);
  EXPECT_THAT(slack[0].body, HasSubstr(summary.run_id()));
  EXPECT_THAT(slack[0].body, HasSubstr("\"blocks\""));
  EXPECT_THAT(slack[0].body, HasSubstr("broken-"));

  std::vector<RecordedRequest> hook = server.Requests(kHookPath);
  ASSERT_EQ(hook.size(), 1u);
  // The Standard Webhooks shape, with the run summary as its data.
  const std::string& body = hook[0].body;
  EXPECT_THAT(body, ::testing::StartsWith(R"({"type":"ingestfleet.run.partial","timestamp":")"));
  const std::vector<std::string> stamps = testing::JsonStringsAfter(body, R"("timestamp":)");
  ASSERT_FALSE(stamps.empty()) << body;
  EXPECT_THAT(stamps[0], ::testing::MatchesRegex("2[0-9-]+T[0-9:.]+Z"));
  const size_t data = body.find(R"(,"data":)");
  ASSERT_NE(data, std::string::npos) << body;
  RunSummary delivered;
  ASSERT_OK(FromJson(body.substr(data + 8, body.size() - data - 9), &delivered)) << body;
  EXPECT_EQ(delivered.run_id(), summary.run_id());
  EXPECT_EQ(hook[0].Header("x-ingestfleet-signature"),
            "sha256=" + HexEncode(testing::IndependentHmacSha256(kWebhookSecret, hook[0].body)));
  const std::string id = hook[0].Header("webhook-id");
  EXPECT_FALSE(id.empty());
  EXPECT_EQ(hook[0].Header("x-ingestfleet-delivery"), id);
  EXPECT_EQ(hook[0].Header("webhook-signature"),
            "v1," + Base64Encode(testing::IndependentHmacSha256(
                        kWebhookSecret, id + "." + hook[0].Header("webhook-timestamp") + "." + hook[0].body)));

  // healthchecks.io's protocol: /start, then /{exit code}, paired by rid,
  // the run's own log lines as the final ping's body.
  std::vector<RecordedRequest> start = server.Requests(std::string(kHealthPath) + "/start");
  std::vector<RecordedRequest> end = server.Requests(std::string(kHealthPath) + "/3");
  ASSERT_EQ(start.size(), 1u);
  ASSERT_EQ(end.size(), 1u);
  EXPECT_THAT(start[0].Param("rid"),
              ::testing::MatchesRegex("[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}"));
  EXPECT_EQ(end[0].Param("rid"), start[0].Param("rid"));
  EXPECT_EQ(server.Requests(kHealthPath).size(), 0u) << "the success ping is not sent for a partial run";
  EXPECT_THAT(end[0].body, HasSubstr("\"run_id\":\"" + summary.run_id() + "\""));
  EXPECT_THAT(end[0].body, HasSubstr("pass F SUCCESS"));
  EXPECT_THAT(end[0].body, HasSubstr("broken-a.pdf"));
  EXPECT_LE(end[0].body.size(), kPingBodyBytes);

  std::vector<RecordedRequest> ai = server.Requests("/v1/chat/completions");
  ASSERT_EQ(ai.size(), 1u);
  EXPECT_EQ(ai[0].Header("authorization"), std::string("Bearer ") + kApiKey);
  EXPECT_THAT(ai[0].body, HasSubstr("\"model\":\"test-model\""));
  EXPECT_THAT(ai[0].body, HasSubstr("broken-a.pdf"));

  std::vector<std::string> mails = smtp.Messages();
  ASSERT_EQ(mails.size(), 1u);
  const std::string& mail = mails[0];
  EXPECT_THAT(mail, HasSubstr("From: ingest@example.org"));
  EXPECT_THAT(mail, HasSubstr("To: ops@example.org, data-team@example.org"));
  EXPECT_THAT(mail, HasSubstr("Subject: [ingestfleet] itest partial: run " + summary.run_id()));
  EXPECT_THAT(mail, HasSubstr("Message-ID: <" + summary.run_id() + ".ingestfleet@example.org>"));
  EXPECT_THAT(mail, HasSubstr("Date: "));
  EXPECT_THAT(mail, HasSubstr("Content-Type: text/plain; charset=UTF-8"));
  EXPECT_THAT(mail, HasSubstr("X-RcptTo: ops@example.org, data-team@example.org"));
  EXPECT_THAT(mail, HasSubstr("broken-b.pdf"));

  std::vector<std::filesystem::path> reports = Reports();
  ASSERT_EQ(reports.size(), 1u);
  const std::string report = testing::ReadAll(reports[0]);
  EXPECT_THAT(report, HasSubstr("broken-a.pdf"));
  EXPECT_THAT(report, HasSubstr("broken-b.pdf"));
  EXPECT_THAT(report, HasSubstr("## AI Consolidated Report"));
  EXPECT_THAT(report, HasSubstr("re-export them"));
  ExpectNoSecretsWritten();
}

TEST_F(NotificationsTest, ServersAnswering500AreRetriedAndDeliverOnce) {
  HttpRecorder server;
  server.Handle(kHookPath, [](const RecordedRequest&, size_t n) {
    return n <= 2 ? Reply{500, "no"} : Reply{200, "ok"};
  });
  // A 4xx is not worth repeating.
  server.Handle(kSlackPath, [](const RecordedRequest&, size_t) { return Reply{404, "no_service"}; });
  ServeAi(server);
  Configure(server.port(), testing::FreeLoopbackPort(), 3);

  RunOutcome outcome = Run({}, 2);
  ASSERT_EQ(outcome.exit_code, 3) << outcome.stderr_text;
  std::vector<RecordedRequest> hook = server.Requests(kHookPath);
  ASSERT_EQ(hook.size(), 3u);
  for (const RecordedRequest& r : hook) {
    EXPECT_EQ(r.Header("webhook-id"), hook[0].Header("webhook-id")) << "one delivery id across retries";
    EXPECT_EQ(r.Header("x-ingestfleet-signature"),
              "sha256=" + HexEncode(testing::IndependentHmacSha256(kWebhookSecret, r.body)));
  }
  EXPECT_EQ(server.Requests(kSlackPath).size(), 1u);
  EXPECT_THAT(outcome.stderr_text, HasSubstr("notification webhook: delivered on attempt 3"));
  EXPECT_THAT(outcome.stderr_text, HasSubstr("notification slack: not delivered after 1 attempt: HTTP 404"));
  EXPECT_THAT(outcome.stderr_text, HasSubstr("notification email: not delivered after 3 attempts"));
  ExpectNoSecretsWritten();
}

TEST_F(NotificationsTest, ReceiversAskingToWaitAreWaitedForA410IsPermanentAndBackoffsAreJittered) {
  // A file name that would ping a whole Slack channel unescaped.
  dir_.Write("corpus/<!channel>.pdf", "%PDF-1.5\nnothing here either\n%%EOF\n");
  HttpRecorder server;
  // Slack's rate limit and a webhook receiver in maintenance: both say when to come back.
  server.Handle(kSlackPath, [](const RecordedRequest&, size_t n) {
    return n == 1 ? Reply{429, "rate_limited", "text/plain", {{"Retry-After", "1"}}} : Reply{200, "ok"};
  });
  server.Handle(kHookPath, [](const RecordedRequest&, size_t n) {
    return n == 1 ? Reply{503, "maintenance", "text/plain", {{"Retry-After", "2"}}} : Reply{200, "ok"};
  });
  server.Handle(std::string(kHealthPath) + "/start", [](const RecordedRequest&, size_t) { return Reply{200, "OK"}; });
  server.Handle(std::string(kHealthPath) + "/3", [](const RecordedRequest&, size_t) { return Reply{410, "gone"}; });
  ServeAi(server);
  Configure(server.port(), testing::FreeLoopbackPort(), 3);  // nothing listens for e-mail

  RunOutcome outcome = Run({}, 2);
  ASSERT_EQ(outcome.exit_code, 3) << outcome.stderr_text;

  std::vector<RecordedRequest> slack = server.Requests(kSlackPath);
  ASSERT_EQ(slack.size(), 2u);
  EXPECT_GE(slack[1].at - slack[0].at, std::chrono::seconds(1)) << "Retry-After: 1 was not honoured";
  EXPECT_THAT(slack[1].body, HasSubstr("&lt;!channel&gt;.pdf"));
  EXPECT_THAT(slack[1].body, Not(HasSubstr("<!channel>")));
  std::vector<RecordedRequest> hook = server.Requests(kHookPath);
  ASSERT_EQ(hook.size(), 2u);
  EXPECT_GE(hook[1].at - hook[0].at, std::chrono::seconds(2)) << "Retry-After: 2 was not honoured";
  EXPECT_THAT(outcome.stderr_text, HasSubstr("notification webhook: delivered on attempt 2"));

  // A 410 is said to be permanent, tried once, and switches nothing off.
  EXPECT_EQ(server.Requests(std::string(kHealthPath) + "/3").size(), 1u);
  EXPECT_THAT(outcome.stderr_text,
              HasSubstr("notification healthcheck fail: not delivered after 1 attempt: HTTP 410 Gone"));
  EXPECT_THAT(outcome.stderr_text, HasSubstr("(permanent; replace it in the config)"));

  // backoff_initial_ms is 20: with jitter the first wait is 10-19 ms, the
  // second 20-39 ms, never the bare doubling.
  std::smatch match;
  std::vector<int64_t> waits;
  std::string rest = outcome.stderr_text;
  while (std::regex_search(
      rest, match,
      std::regex("notification email: attempt [0-9] of 3 failed .*; retrying in ([0-9]+) ms \\(backoff\\)"))) {
    waits.push_back(std::stoll(match[1]));
    rest = match.suffix();
  }
  ASSERT_EQ(waits.size(), 2u) << outcome.stderr_text;
  EXPECT_GE(waits[0], 10);
  EXPECT_LT(waits[0], 20);
  EXPECT_GE(waits[1], 20);
  EXPECT_LT(waits[1], 40);
  ExpectNoSecretsWritten();
}

TEST_F(NotificationsTest, WithEveryServerDownTheExitCodeStaysAndTheReportSaysTheAiSectionIsMissing) {
  Configure(testing::FreeLoopbackPort(), testing::FreeLoopbackPort(), 2);
  RunOutcome outcome = Run({}, 2);
  EXPECT_EQ(outcome.exit_code, 3) << outcome.stderr_text;
  for (const char* channel : {"slack", "webhook", "email", "healthcheck start", "healthcheck fail"}) {
    EXPECT_THAT(outcome.stderr_text, HasSubstr(std::string("notification ") + channel + ": not delivered"));
  }
  std::vector<std::filesystem::path> reports = Reports();
  ASSERT_EQ(reports.size(), 1u);
  const std::string report = testing::ReadAll(reports[0]);
  EXPECT_THAT(report, HasSubstr("broken-a.pdf"));
  EXPECT_THAT(report, HasSubstr("## AI Consolidated Report"));
  EXPECT_THAT(report, HasSubstr("Not available: AI endpoint"));
  ExpectNoSecretsWritten();
}

TEST_F(NotificationsTest, StarttlsRequiredAgainstAServerWithoutTlsSendsNothingAndIsNotRetried) {
  HttpRecorder server;
  testing::SmtpServer smtp(dir_.path() / "smtp");
  ASSERT_TRUE(smtp.ready()) << testing::ReadAll(dir_.path() / "smtp" / "smtpd.err");
  Configure(server.port(), smtp.port(), 3, "required");
  RunOutcome outcome = Run({}, 2);
  EXPECT_EQ(outcome.exit_code, 3) << outcome.stderr_text;
  EXPECT_TRUE(smtp.Messages().empty()) << "the password must not travel in clear text";
  EXPECT_THAT(outcome.stderr_text, HasSubstr("notification email: not delivered after 1 attempt: STARTTLS"));
}

}  // namespace
}  // namespace ingest
