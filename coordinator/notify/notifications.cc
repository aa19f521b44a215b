#include "coordinator/notify/notifications.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <time.h>

#include <algorithm>
#include <array>
#include <deque>
#include <fstream>
#include <sstream>
#include <thread>

#include "common/crash_point.h"
#include "common/curl_easy.h"
#include "common/manifest.h"
#include "common/proto_json.h"
#include "common/redact.h"
#include "common/run_log.h"
#include "common/sha256.h"
#include "common/utf8.h"
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
    top.push_back(Redact(e.size() > kFailureChars ? e.substr(0, Utf8FloorBoundary(e, kFailureChars)) + "…" : e));
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

// Slack mrkdwn text from ours with values we did not write already escaped.
std::string Mrkdwn(const std::string& text, size_t max_chars = kSlackSectionChars) {
  return TextObject("mrkdwn", TruncateForSlack(text, max_chars));
}

// Slack caps a section field at 2,000 characters.
constexpr size_t kSlackFieldChars = 2000;
// Slack asks for no more retries than this; a longer Retry-After ends the delivery.
constexpr std::chrono::seconds kLongestRetryAfter{300};
constexpr std::string_view kCutMarker = " …[truncated]";

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

std::string SlackEscape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      default:
        out.push_back(c);
    }
  }
  return out;
}

std::string TruncateForSlack(std::string_view text, size_t max_chars) {
  if (CountCodePoints(text) <= max_chars) return std::string(text);
  const size_t marker_chars = CountCodePoints(kCutMarker);
  const size_t keep = max_chars > marker_chars ? max_chars - marker_chars : 0;
  size_t end = 0;
  for (size_t n = 0; n < keep && end < text.size(); ++n) end += std::max<size_t>(1, Utf8SequenceLength(text, end));
  // Half an &amp; would show as text: cut before it.
  if (end > 0) {
    const size_t amp = text.rfind('&', end - 1);
    if (amp != std::string_view::npos && end - amp < 5 && text.substr(amp, end - amp).find(';') == std::string::npos) {
      end = amp;
    }
  }
  return std::string(text.substr(0, end)) + std::string(kCutMarker);
}

std::string SlackPayload(const RunNotice& notice) {
  const RunSummary& s = notice.summary;
  std::vector<std::string> blocks;
  // plain_text: Slack shows it as it is, so it needs no escaping.
  blocks.push_back(JsonObject({{"type", JsonQuote("header")},
                               {"text", TextObject("plain_text", TruncateForSlack(Headline(s), kSlackHeaderChars))}}));
  std::vector<std::string> facts;
  for (const auto& [name, value] : std::vector<std::pair<std::string, std::string>>{
           {"Run", s.run_id()},
           {"Env", s.env()},
           {"Status", s.status() + " (exit " + std::to_string(s.exit_code()) + ")"},
           {"Duration", fmt::format("{:.1f} s", s.duration_s())},
           {"Documents", DocumentsLine(s)},
           {"Output", FiguresLine(s)},
           {"Changes detected", std::to_string(s.changes_detected())}}) {
    facts.push_back(Mrkdwn("*" + name + "*\n" + SlackEscape(value), kSlackFieldChars));
  }
  blocks.push_back(JsonObject({{"type", JsonQuote("section")}, {"fields", JsonArray(facts)}}));
  const std::vector<std::string> top = TopFailures(s);
  if (!top.empty()) {
    std::string text = "*Top failures* (" + std::to_string(s.errors().count()) + " in all)";
    for (const std::string& f : top) text += "\n• " + SlackEscape(f);
    blocks.push_back(JsonObject({{"type", JsonQuote("section")}, {"text", Mrkdwn(text)}}));
  }
  if (!notice.report_path.empty()) {
    blocks.push_back(
        JsonObject({{"type", JsonQuote("context")},
                    {"elements", JsonArray({Mrkdwn("Report: `" + SlackEscape(notice.report_path) + "`")})}}));
  }
  return JsonObject({{"text", JsonQuote(SlackEscape(Headline(s)))}, {"blocks", JsonArray(blocks)}});
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

std::string WebhookBody(const RunSummary& summary, WallTime now) {
  return JsonObject({{"type", JsonQuote("ingestfleet.run." + summary.status())},
                     {"timestamp", JsonQuote(FormatTimestamp(now))},
                     {"data", ToJson(summary)}});
}

std::string RunLogTail(const std::filesystem::path& path, const std::string& run_id, size_t max_bytes) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return "";
  const std::string mark = "\"run_id\":" + JsonQuote(run_id);
  // Only the newest lines are kept, so a long log costs no more memory.
  std::deque<std::string> lines;
  size_t bytes = 0;
  for (std::string line; std::getline(in, line);) {
    if (line.find(mark) == std::string::npos) continue;
    bytes += line.size() + 1;
    lines.push_back(std::move(line));
    while (bytes > max_bytes && !lines.empty()) {
      bytes -= lines.front().size() + 1;
      lines.pop_front();
    }
  }
  std::string tail;
  tail.reserve(bytes);
  for (const std::string& line : lines) tail += line + "\n";
  return tail;
}

std::string HealthPingUrl(const std::string& base, const std::string& suffix, const std::string& rid) {
  const size_t query = base.find('?');
  if (query == std::string::npos) return base + suffix + "?rid=" + rid;
  return base.substr(0, query) + suffix + base.substr(query) + "&rid=" + rid;
}

namespace {

// A random (version 4) UUID, as healthchecks.io wants for rid.
std::string RandomUuid(std::mt19937& rng) {
  std::array<uint8_t, 16> bytes{};
  std::uniform_int_distribution<int> byte(0, 255);
  for (uint8_t& b : bytes) b = static_cast<uint8_t>(byte(rng));
  bytes[6] = static_cast<uint8_t>((bytes[6] & 0x0F) | 0x40);
  bytes[8] = static_cast<uint8_t>((bytes[8] & 0x3F) | 0x80);
  const std::string hex = HexEncode(std::string(bytes.begin(), bytes.end()));
  return hex.substr(0, 8) + "-" + hex.substr(8, 4) + "-" + hex.substr(12, 4) + "-" + hex.substr(16, 4) + "-" +
         hex.substr(20);
}

}  // namespace

Notifier::Notifier(NotificationsConfig config) : config_(std::move(config)), rng_(std::random_device{}()) {
  ping_rid_ = RandomUuid(rng_);
}

Notifier::Attempt Notifier::Post(const std::string& url, std::vector<std::pair<std::string, std::string>> headers,
                                 const std::string& body) const {
  Result<HttpAnswer> answer =
      ExchangeHttp({"POST", url, std::move(headers), body, std::chrono::seconds(config_.timeout_s)});
  if (!answer.ok()) return {answer.status(), std::nullopt};
  const long code = answer->status;
  if (code >= 200 && code < 300) return {Status::Ok(), std::nullopt};
  if (code == 410) {
    // Nothing is switched off: every run tries the URL again until the config changes.
    return {Status(StatusCode::kFailedPrecondition,
                   "HTTP 410 Gone: the receiver says this URL is gone for good (permanent; replace it in the config)"),
            std::nullopt};
  }
  const bool asks_to_wait = code == 429 || code == 503;
  return {HttpAnswerStatus(code), asks_to_wait ? answer->retry_after : std::nullopt};
}

void Notifier::Deliver(const std::string& channel, const std::function<Attempt()>& attempt) {
  auto backoff = std::chrono::milliseconds(config_.backoff_initial_ms);
  for (uint32_t i = 1;; ++i) {
    const Attempt tried = attempt();
    if (tried.status.ok()) {
      spdlog::info("notification {}: delivered{}", channel, i > 1 ? " on attempt " + std::to_string(i) : "");
      delivered_.push_back(channel);
      return;
    }
    std::string why = tried.status.message();
    bool again = tried.status.code() == StatusCode::kUnavailable && i < config_.attempts;
    if (again && tried.retry_after && *tried.retry_after > kLongestRetryAfter) {
      why += fmt::format(" (Retry-After {} s, longer than the {} s we wait)", tried.retry_after->count(),
                         kLongestRetryAfter.count());
      again = false;
    }
    if (!again) {
      // The run's outcome stands whatever happens here.
      LogEvent(spdlog::level::err, {.status = "notification_failed", .error = why},
               "notification " + channel + ": not delivered after " + std::to_string(i) + " attempt" +
                   (i == 1 ? "" : "s") + ": " + why);
      undelivered_.push_back(channel);
      return;
    }
    // Jitter keeps a fleet of coordinators that failed together from retrying together.
    auto wait = std::chrono::milliseconds(static_cast<int64_t>(static_cast<double>(backoff.count()) *
                                                               std::uniform_real_distribution<double>(0.5, 1.0)(rng_)));
    std::string reason = "backoff";
    if (tried.retry_after) {
      wait = *tried.retry_after + std::chrono::milliseconds(std::uniform_int_distribution<int>(0, 250)(rng_));
      reason = "Retry-After";
    }
    spdlog::warn("notification {}: attempt {} of {} failed ({}); retrying in {} ms ({})", channel, i, config_.attempts,
                 why, wait.count(), reason);
    std::this_thread::sleep_for(wait);
    backoff = std::min(backoff * 2, std::chrono::milliseconds(60000));
  }
}

void Notifier::RunStarted() {
  if (config_.healthcheck_url.empty()) return;
  const std::string url = HealthPingUrl(config_.healthcheck_url, "/start", ping_rid_);
  Deliver("healthcheck start", [&] { return Post(url, {}, ""); });
}

void Notifier::RunFinished(const RunNotice& notice) {
  CrashPoint("notification");
  const RunSummary& s = notice.summary;
  if (ShouldNotify(config_.on, s)) {
    if (!config_.slack_webhook_url.empty()) {
      const std::string payload = SlackPayload(notice);
      Deliver("slack", [&] {
        return Post(config_.slack_webhook_url, {{"Content-Type", "application/json"}}, payload);
      });
    }
    if (!config_.webhook_url.empty()) {
      const std::string body = WebhookBody(s, std::chrono::system_clock::now());
      const std::string delivery_id = "ingestfleet-" + s.run_id();
      Deliver("webhook", [&] {
        // A fresh timestamp (and signature) per attempt, as receivers
        // reject old ones; the delivery id stays, so they can deduplicate.
        return Post(config_.webhook_url, WebhookHeaders(config_.webhook_secret, delivery_id, UnixNow(), body), body);
      });
    }
    if (config_.email) {
      const EmailConfig& email = *config_.email;
      const std::string content = MailContent(email, notice, std::chrono::system_clock::now());
      const auto timeout = std::chrono::milliseconds(std::chrono::seconds(config_.timeout_s));
      Deliver("email", [&] {
        return Attempt{SendMail({email.smtp_url, email.starttls, email.username, email.password, email.from, email.to,
                                 content, timeout}),
                       std::nullopt};
      });
    }
  } else {
    spdlog::info("notifications: outcome {} is not in notifications.on; no message sent", s.status());
  }
  if (!config_.healthcheck_url.empty()) {
    // healthchecks.io: {url} for success, {url}/{exit code} for anything
    // else; the body is what its web view shows as the ping's log.
    const bool success = s.exit_code() == 0;
    const std::string url =
        HealthPingUrl(config_.healthcheck_url, success ? "" : "/" + std::to_string(s.exit_code()), ping_rid_);
    std::string body = notice.log_path.empty() ? "" : RunLogTail(notice.log_path, s.run_id(), kPingBodyBytes);
    if (body.empty()) body = ToJson(s) + "\n";
    Deliver(success ? "healthcheck success" : "healthcheck fail", [&] {
      return Post(url, {{"Content-Type", "text/plain; charset=utf-8"}}, body);
    });
  }
}

}  // namespace ingest
