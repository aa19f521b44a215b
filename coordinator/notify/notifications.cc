#include "coordinator/notify/notifications.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <time.h>

#include <algorithm>
#include <sstream>
#include <thread>

#include "common/crash_point.h"
#include "common/manifest.h"
#include "common/proto_json.h"
#include "common/redact.h"
#include "common/run_log.h"
#include "common/sha256.h"
#include "coordinator/notify/curl_transport.h"

namespace ingest {
namespace {

constexpr size_t kTopFailures = 5;
constexpr size_t kFailureChars = 300;

const char* StatusEmoji(const std::string& status) {
  if (status == kJobCompleted) return "\u2705";      // white heavy check mark
  if (status == kJobPartial) return "\u26A0\uFE0F";  // warning sign
  return "\u274C";                                   // cross mark
}

std::vector<std::string> TopFailures(const RunSummary& s) {
  std::vector<std::string> top;
  for (const std::string& e : s.errors().first()) {
    if (top.size() == kTopFailures) break;
    top.push_back(Redact(e.size() > kFailureChars ? e.substr(0, kFailureChars) + "…" : e));
  }
  return top;
}

std::string Headline(const RunSummary& s) {
  return fmt::format("{} ingestfleet {}: run {} {}", StatusEmoji(s.status()), s.env(), s.run_id(), s.status());
}

std::string DocumentsLine(const RunSummary& s) {
  const DocumentCounts& d = s.documents();
  return fmt::format("{} processed, {} new, {} changed, {} unchanged, {} deleted, {} failed, {} quarantined",
                     d.processed(), d.new_(), d.changed(), d.unchanged(), d.deleted(), d.failed(), d.quarantined());
}

std::string FiguresLine(const RunSummary& s) {
  return fmt::format("{} pages, {} chunks, {} entities, graph {} nodes / {} edges", s.pages(), s.chunks(), s.entities(),
                     s.graph().nodes(), s.graph().edges());
}

std::string TextObject(const std::string& type, const std::string& text) {
  return JsonObject({{"type", JsonQuote(type)}, {"text", JsonQuote(text)}});
}

std::string RfcDate(WallTime now) {
  const time_t t = std::chrono::system_clock::to_time_t(now);
  struct tm utc {};
  gmtime_r(&t, &utc);
  static const char* kDays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
  static const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  return fmt::format("{}, {:02d} {} {} {:02d}:{:02d}:{:02d} +0000", kDays[utc.tm_wday], utc.tm_mday,
                     kMonths[utc.tm_mon], utc.tm_year + 1900, utc.tm_hour, utc.tm_min, utc.tm_sec);
}

std::string Crlf(const std::string& text) {
  std::string out;
  for (char c : text) {
    if (c == '\n')
      out += "\r\n";
    else if (c != '\r')
      out.push_back(c);
  }
  return out;
}

}  // namespace

std::shared_ptr<const Redactor> SecretRedactor(const Config& config) {
  auto redactor = std::make_shared<Redactor>();
  const NotificationsConfig& n = config.notifications;
  for (const std::string& secret : {n.slack_webhook_url, n.webhook_url, n.webhook_secret, n.healthcheck_url}) {
    redactor->AddSecret(secret);
  }
  if (n.email) {
    redactor->AddSecret(n.email->username);
    redactor->AddSecret(n.email->password);
  }
  if (const char* key = std::getenv("OPENAI_API_KEY"); key != nullptr) redactor->AddSecret(key);
  return redactor;
}

bool ShouldNotify(const std::vector<std::string>& on, const RunSummary& summary) {
  auto listed = [&on](const std::string& outcome) { return std::find(on.begin(), on.end(), outcome) != on.end(); };
  return listed(summary.status()) || (listed("changed") && summary.changes_detected() > 0);
}

std::string NoticeText(const RunNotice& notice) {
  const RunSummary& s = notice.summary;
  std::ostringstream out;
  out << Headline(s) << "\n\n";
  out << "Run: " << s.run_id() << "\nJob: " << s.job_id() << "\nEnv: " << s.env() << "\n";
  out << "Status: " << s.status() << " (exit " << s.exit_code() << ")\n";
  out << "Duration: " << fmt::format("{:.1f}", s.duration_s()) << " s\n";
  out << "Documents: " << DocumentsLine(s) << "\n";
  out << "Output: " << FiguresLine(s) << "\n";
  out << "Changes detected: " << s.changes_detected() << "\n";
  const std::vector<std::string> top = TopFailures(s);
  if (!top.empty()) {
    out << "\nTop failures (" << s.errors().count() << " in all):\n";
    for (const std::string& f : top) out << "- " << f << "\n";
  }
  if (!notice.report_path.empty()) out << "\nReport: " << notice.report_path << "\n";
  return out.str();
}

std::string SlackPayload(const RunNotice& notice) {
  const RunSummary& s = notice.summary;
  std::vector<std::string> blocks;
  blocks.push_back(JsonObject({{"type", JsonQuote("header")}, {"text", TextObject("plain_text", Headline(s))}}));
  std::vector<std::string> facts;
  for (const auto& [name, value] : std::vector<std::pair<std::string, std::string>>{
           {"Run", s.run_id()},
           {"Env", s.env()},
           {"Status", s.status() + " (exit " + std::to_string(s.exit_code()) + ")"},
           {"Duration", fmt::format("{:.1f} s", s.duration_s())},
           {"Documents", DocumentsLine(s)},
           {"Output", FiguresLine(s)},
           {"Changes detected", std::to_string(s.changes_detected())}}) {
    facts.push_back(TextObject("mrkdwn", "*" + name + "*\n" + value));
  }
  blocks.push_back(JsonObject({{"type", JsonQuote("section")}, {"fields", JsonArray(facts)}}));
  const std::vector<std::string> top = TopFailures(s);
  if (!top.empty()) {
    std::string text = "*Top failures* (" + std::to_string(s.errors().count()) + " in all)";
    for (const std::string& f : top) text += "\n• " + f;
    blocks.push_back(JsonObject({{"type", JsonQuote("section")}, {"text", TextObject("mrkdwn", text)}}));
  }
  if (!notice.report_path.empty()) {
    blocks.push_back(
        JsonObject({{"type", JsonQuote("context")},
                    {"elements", JsonArray({TextObject("mrkdwn", "Report: `" + notice.report_path + "`")})}}));
  }
  return JsonObject({{"text", JsonQuote(Headline(s))}, {"blocks", JsonArray(blocks)}});
}

std::string MailContent(const EmailConfig& email, const RunNotice& notice, WallTime now) {
  const RunSummary& s = notice.summary;
  const size_t at = email.from.find('@');
  const std::string domain = at == std::string::npos ? "ingestfleet.invalid" : email.from.substr(at + 1);
  std::string to;
  for (const std::string& r : email.to) to += (to.empty() ? "" : ", ") + r;
  std::ostringstream out;
  out << "Date: " << RfcDate(now) << "\n";
  out << "Message-ID: <" << s.run_id() << ".ingestfleet@" << domain << ">\n";
  out << "From: " << email.from << "\n";
  out << "To: " << to << "\n";
  out << "Subject: [ingestfleet] " << s.env() << " " << s.status() << ": run " << s.run_id() << "\n";
  out << "MIME-Version: 1.0\n";
  out << "Content-Type: text/plain; charset=UTF-8\n";
  out << "Content-Transfer-Encoding: 8bit\n";
  out << "\n" << NoticeText(notice);
  return Crlf(out.str());
}

std::vector<std::pair<std::string, std::string>> WebhookHeaders(const std::string& secret,
                                                                const std::string& delivery_id, int64_t unix_time,
                                                                const std::string& body) {
  std::vector<std::pair<std::string, std::string>> headers = {{"Content-Type", "application/json"},
                                                              {"X-Ingestfleet-Delivery", delivery_id},
                                                              {"webhook-id", delivery_id},
                                                              {"webhook-timestamp", std::to_string(unix_time)}};
  if (secret.empty()) return headers;
  headers.emplace_back("X-Ingestfleet-Signature", "sha256=" + HexEncode(HmacSha256(secret, body)));
  std::string key = secret;
  if (secret.starts_with("whsec_")) {
    Result<std::string> decoded = Base64Decode(std::string_view(secret).substr(6));
    if (decoded.ok()) key = *decoded;
  }
  const std::string signed_content = delivery_id + "." + std::to_string(unix_time) + "." + body;
  headers.emplace_back("webhook-signature", "v1," + Base64Encode(HmacSha256(key, signed_content)));
  return headers;
}

Notifier::Notifier(NotificationsConfig config) : config_(std::move(config)) {}

void Notifier::Deliver(const std::string& channel, const std::function<Status()>& attempt) {
  auto backoff = std::chrono::milliseconds(config_.backoff_initial_ms);
  for (uint32_t i = 1;; ++i) {
    Status sent = attempt();
    if (sent.ok()) {
      spdlog::info("notification {}: delivered{}", channel, i > 1 ? " on attempt " + std::to_string(i) : "");
      delivered_.push_back(channel);
      return;
    }
    const bool again = sent.code() == StatusCode::kUnavailable && i < config_.attempts;
    if (!again) {
      // The run's outcome stands whatever happens here.
      LogEvent(spdlog::level::err, {.status = "notification_failed", .error = sent.message()},
               "notification " + channel + ": not delivered after " + std::to_string(i) + " attempt" +
                   (i == 1 ? "" : "s") + ": " + sent.message());
      undelivered_.push_back(channel);
      return;
    }
    spdlog::warn("notification {}: attempt {} of {} failed ({}); retrying in {} ms", channel, i, config_.attempts,
                 sent.message(), backoff.count());
    std::this_thread::sleep_for(backoff);
    backoff = std::min(backoff * 2, std::chrono::milliseconds(60000));
  }
}

void Notifier::RunStarted() {
  if (config_.healthcheck_url.empty()) return;
  Deliver("healthcheck start", [this] {
    return PerformHttp({"POST", config_.healthcheck_url + "/start", {}, "", std::chrono::seconds(config_.timeout_s)})
        .status();
  });
}

void Notifier::RunFinished(const RunNotice& notice) {
  CrashPoint("notification");
  const auto timeout = std::chrono::milliseconds(std::chrono::seconds(config_.timeout_s));
  const RunSummary& s = notice.summary;
  const std::string summary_json = ToJson(s);
  if (ShouldNotify(config_.on, s)) {
    if (!config_.slack_webhook_url.empty()) {
      const std::string payload = SlackPayload(notice);
      Deliver("slack", [&] {
        return PerformHttp(
                   {"POST", config_.slack_webhook_url, {{"Content-Type", "application/json"}}, payload, timeout})
            .status();
      });
    }
    if (!config_.webhook_url.empty()) {
      const std::string& body = summary_json;
      const std::string delivery_id = "ingestfleet-" + s.run_id();
      Deliver("webhook", [&] {
        // A fresh timestamp (and signature) per attempt, as receivers
        // reject old ones; the delivery id stays, so they can deduplicate.
        return PerformHttp({"POST", config_.webhook_url,
                            WebhookHeaders(config_.webhook_secret, delivery_id, UnixNow(), body), body, timeout})
            .status();
      });
    }
    if (config_.email) {
      const EmailConfig& email = *config_.email;
      const std::string content = MailContent(email, notice, std::chrono::system_clock::now());
      Deliver("email", [&] {
        return SendMail(
            {email.smtp_url, email.starttls, email.username, email.password, email.from, email.to, content, timeout});
      });
    }
  } else {
    spdlog::info("notifications: outcome {} is not in notifications.on; no message sent", s.status());
  }
  if (!config_.healthcheck_url.empty()) {
    const bool success = s.status() == kJobCompleted;
    const std::string url = config_.healthcheck_url + (success ? "" : "/fail");
    Deliver(success ? "healthcheck success" : "healthcheck fail", [&] {
      return PerformHttp({"POST", url, {{"Content-Type", "application/json"}}, summary_json, timeout}).status();
    });
  }
}

}  // namespace ingest
