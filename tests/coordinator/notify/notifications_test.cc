#include "coordinator/notify/notifications.h"

#include <google/protobuf/struct.pb.h>

#include "common/proto_json.h"
#include "common/sha256.h"
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
