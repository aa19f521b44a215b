#include "coordinator/notify/notifications.h"

#include <google/protobuf/struct.pb.h>

#include "common/proto_json.h"
#include "common/sha256.h"
#include "common/utf8.h"
#include "tests/testing/testing.h"

namespace ingest {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

RunSummary Partial() {
  RunSummary s;
  s.set_run_id("run_20261122_020000_42");
  s.set_job_id("job_2026-11-22T02-00-00");
  s.set_env("prod");
  s.set_status("partial");
  s.set_exit_code(3);
  s.set_duration_s(83.4);
  s.mutable_documents()->set_processed(98);
  s.mutable_documents()->set_failed(2);
  s.mutable_documents()->set_new_(3);
  s.set_changes_detected(3);
  s.set_chunks(1200);
  s.mutable_errors()->set_count(2);
  s.mutable_errors()->add_first("rules/broken.pdf: not a PDF, write to owner@example.org");
  s.mutable_errors()->add_first("rules/empty.pdf: no pages");
  return s;
}

std::string Header(const std::vector<std::pair<std::string, std::string>>& headers, const std::string& name) {
  for (const auto& [n, v] : headers) {
    if (n == name) return v;
  }
  return "";
}

TEST(NotificationContentTest, OutcomesListedInOnDecide) {
  RunSummary s = Partial();
  EXPECT_TRUE(ShouldNotify({"failed", "partial"}, s));
  EXPECT_FALSE(ShouldNotify({"failed"}, s));
  EXPECT_TRUE(ShouldNotify({"changed"}, s));
  s.set_changes_detected(0);
  EXPECT_FALSE(ShouldNotify({"changed", "completed"}, s));
}

TEST(NotificationContentTest, SlackPayloadIsJsonWithTextBlocksFiguresFailuresAndReport) {
  RunSummary s = Partial();
  std::string json = SlackPayload({s, "/reports/RUN-20261122_020000.md"});
  google::protobuf::Struct parsed;
  ASSERT_OK(FromJson(json, &parsed)) << json;  // well-formed JSON
  EXPECT_THAT(json, HasSubstr("\"text\":\"\u26A0\uFE0F ingestfleet prod: run run_20261122_020000_42 partial\""));
  EXPECT_THAT(json, HasSubstr("{\"type\":\"header\""));
  EXPECT_THAT(json, HasSubstr("{\"type\":\"context\""));
  EXPECT_THAT(json, HasSubstr("98 processed"));
  EXPECT_THAT(json, HasSubstr("rules/broken.pdf"));
  EXPECT_THAT(json, HasSubstr("RUN-20261122_020000.md"));
  EXPECT_THAT(json, Not(HasSubstr("owner@example.org")));
}

// The text of every mrkdwn object and the header of a Slack payload.
struct SlackTexts {
  std::string header;
  std::vector<std::string> mrkdwn;
};

SlackTexts ParseSlack(const std::string& json) {
  google::protobuf::Struct parsed;
  EXPECT_OK(FromJson(json, &parsed)) << json;  // well-formed
  SlackTexts texts;
  const std::vector<std::string> headers = testing::JsonStringsAfter(json, R"("type":"plain_text","text":)");
  EXPECT_EQ(headers.size(), 1u) << json;
  if (!headers.empty()) texts.header = headers[0];
  texts.mrkdwn = testing::JsonStringsAfter(json, R"("type":"mrkdwn","text":)");
  // The fallback text, mrkdwn too.
  for (std::string& text : testing::JsonStringsAfter(json, R"({"text":)")) texts.mrkdwn.push_back(std::move(text));
  return texts;
}

TEST(NotificationContentTest, SlackEscapesEveryTextItDidNotWriteSoNoFileNamePingsAChannel) {
  RunSummary s = Partial();
  s.set_env("prod <@U123> & co");
  s.mutable_errors()->set_first(0, "inbox/<!channel>.pdf: not a PDF (<https://evil.example|click>)");
  const SlackTexts texts = ParseSlack(SlackPayload({s, "/reports/<!here>.md"}));
  std::string all;
  for (const std::string& t : texts.mrkdwn) all += t + "\n";
  EXPECT_THAT(all, HasSubstr("inbox/&lt;!channel&gt;.pdf"));
  EXPECT_THAT(all, HasSubstr("&lt;https://evil.example|click&gt;"));
  EXPECT_THAT(all, HasSubstr("prod &lt;@U123&gt; &amp; co"));
  EXPECT_THAT(all, HasSubstr("/reports/&lt;!here&gt;.md"));
  EXPECT_THAT(all, Not(HasSubstr("<!")));
  EXPECT_THAT(all, Not(HasSubstr("<@")));
  EXPECT_THAT(all, Not(HasSubstr("<https")));
  // The header is plain_text, which Slack shows as it is.
  EXPECT_THAT(texts.header, HasSubstr("prod <@U123> & co"));
  EXPECT_EQ(SlackEscape("a&b<c>d"), "a&amp;b&lt;c&gt;d");
}

TEST(NotificationContentTest, SlackCutsTheHeaderAt150AndASectionAt3000CharactersWithAMarker) {
  RunSummary s = Partial();
  s.set_env(std::string(100, 'e') + [] {
    std::string umlauts;
    for (int i = 0; i < 100; ++i) umlauts += "\u00e4";
    return umlauts;
  }());
  const std::string report = "/reports/" + std::string(5000, 'r') + ".md";
  const SlackTexts texts = ParseSlack(SlackPayload({s, report}));
  EXPECT_EQ(CountCodePoints(texts.header), kSlackHeaderChars);
  EXPECT_TRUE(texts.header.ends_with(" \u2026[truncated]")) << texts.header;
  EXPECT_TRUE(IsValidUtf8(texts.header));
  bool cut_report = false;
  for (const std::string& t : texts.mrkdwn) {
    EXPECT_LE(CountCodePoints(t), kSlackSectionChars);
    if (t.starts_with("Report: ")) {
      cut_report = true;
      EXPECT_EQ(CountCodePoints(t), kSlackSectionChars);
      EXPECT_TRUE(t.ends_with("[truncated]"));
    }
  }
  EXPECT_TRUE(cut_report);

  EXPECT_EQ(TruncateForSlack("short", 150), "short");
  // Never half an entity: "&amp;" is kept whole or left out.
  const std::string cut = TruncateForSlack(std::string(10, 'x') + "&amp;" + std::string(30, 'y'), 29);
  EXPECT_EQ(cut, std::string(10, 'x') + "&amp;" + std::string(1, 'y') + " \u2026[truncated]");
  const std::string before = TruncateForSlack(std::string(10, 'x') + "&amp;" + std::string(30, 'y'), 26);
  EXPECT_EQ(before, std::string(10, 'x') + " \u2026[truncated]");
}

TEST(NotificationContentTest, WebhookBodyIsAStandardWebhooksEventWithTheSummaryAsData) {
  const std::string body = WebhookBody(Partial(), std::chrono::system_clock::from_time_t(1795312800));
  const std::string head = R"({"type":"ingestfleet.run.partial","timestamp":"2026-11-22T02:00:00.000Z","data":)";
  ASSERT_TRUE(body.starts_with(head) && body.ends_with("}")) << body;
  RunSummary data;
  ASSERT_OK(FromJson(body.substr(head.size(), body.size() - head.size() - 1), &data)) << body;
  EXPECT_EQ(data.run_id(), "run_20261122_020000_42");
  EXPECT_EQ(data.status(), "partial");
}

TEST(NotificationContentTest, HealthPingsCarryTheRidAndTheTailOfTheRunsOwnLogLines) {
  EXPECT_EQ(HealthPingUrl("https://hc.example/ping/abc", "/start", "R1"), "https://hc.example/ping/abc/start?rid=R1");
  EXPECT_EQ(HealthPingUrl("https://hc.example/ping/abc", "/3", "R1"), "https://hc.example/ping/abc/3?rid=R1");
  EXPECT_EQ(HealthPingUrl("https://hc.example/ping/abc?create=1", "", "R1"),
            "https://hc.example/ping/abc?create=1&rid=R1");

  testing::TempDir dir;
  std::string log;
  for (int i = 0; i < 3000; ++i) {
    log += R"({"ts":"t","run_id":"run_old","message":"old )" + std::to_string(i) + "\"}\n";
    log +=
        R"({"ts":"t","run_id":"run_new","message":"line )" + std::to_string(i) + " " + std::string(40, 'x') + "\"}\n";
  }
  dir.Write("run.ndjson", log);
  const std::string tail = RunLogTail(dir.path() / "run.ndjson", "run_new", kPingBodyBytes);
  EXPECT_LE(tail.size(), kPingBodyBytes);
  EXPECT_GT(tail.size(), kPingBodyBytes - 200);
  EXPECT_THAT(tail, Not(HasSubstr("run_old")));
  EXPECT_TRUE(tail.starts_with(R"({"ts":)")) << "whole lines only";
  EXPECT_TRUE(tail.ends_with(R"(line 2999 )" + std::string(40, 'x') + "\"}\n"));
  EXPECT_EQ(RunLogTail(dir.path() / "missing.ndjson", "run_new", kPingBodyBytes), "");
}

TEST(NotificationContentTest, WebhookSignaturesVerifyWithAnIndependentHmac) {
  const std::string body = ToJson(Partial());
  auto headers = WebhookHeaders("s3cret-value", "ingestfleet-run_1", 1700000000, body);
  EXPECT_EQ(Header(headers, "X-Ingestfleet-Signature"),
            "sha256=" + HexEncode(testing::IndependentHmacSha256("s3cret-value", body)));
  EXPECT_EQ(Header(headers, "X-Ingestfleet-Delivery"), "ingestfleet-run_1");
  EXPECT_EQ(Header(headers, "webhook-id"), "ingestfleet-run_1");
  EXPECT_EQ(Header(headers, "webhook-timestamp"), "1700000000");
  EXPECT_EQ(Header(headers, "webhook-signature"), "v1," + Base64Encode(testing::IndependentHmacSha256(
                                                              "s3cret-value", "ingestfleet-run_1.1700000000." + body)));

  // A Standard Webhooks secret: whsec_ + base64 of the key.
  auto standard = WebhookHeaders("whsec_" + Base64Encode("raw-key-bytes"), "id1", 5, "{}");
  EXPECT_EQ(Header(standard, "webhook-signature"),
            "v1," + Base64Encode(testing::IndependentHmacSha256("raw-key-bytes", "id1.5.{}")));

  auto unsigned_headers = WebhookHeaders("", "id1", 5, "{}");
  EXPECT_EQ(Header(unsigned_headers, "X-Ingestfleet-Signature"), "");
  EXPECT_EQ(Header(unsigned_headers, "webhook-signature"), "");
}

TEST(NotificationContentTest, MailHasRfc5322HeadersAndCrlfLines) {
  EmailConfig email;
  email.from = "ingest@example.org";
  email.to = {"a@example.org", "b@example.org"};
  RunSummary s = Partial();
  std::string mail = MailContent(email, {s, ""}, std::chrono::system_clock::from_time_t(1795312800));
  EXPECT_THAT(mail, HasSubstr("Date: Sun, 22 Nov 2026 02:00:00 +0000\r\n"));
  EXPECT_THAT(mail, HasSubstr("Message-ID: <run_20261122_020000_42.ingestfleet@example.org>\r\n"));
  EXPECT_THAT(mail, HasSubstr("From: ingest@example.org\r\n"));
  EXPECT_THAT(mail, HasSubstr("To: a@example.org, b@example.org\r\n"));
  EXPECT_THAT(mail, HasSubstr("Subject: [ingestfleet] prod partial: run run_20261122_020000_42\r\n"));
  EXPECT_THAT(mail, HasSubstr("Content-Type: text/plain; charset=UTF-8\r\n"));
  EXPECT_THAT(mail, HasSubstr("\r\n\r\n"));
  EXPECT_EQ(mail.find('\n'), mail.find("\r\n") + 1) << "every line ends in CRLF";
  for (size_t i = 0; i < mail.size(); ++i) {
    if (mail[i] == '\n') {
      ASSERT_EQ(mail[i - 1], '\r') << "bare LF at " << i;
    }
  }
}

}  // namespace
}  // namespace ingest
