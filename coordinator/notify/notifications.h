#pragma once

#include <chrono>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/config.h"
#include "common/ids.h"
#include "common/redact.h"
#include "common/status.h"
#include "proto/manifest.pb.h"

namespace ingest {

// The secrets of a config (webhook URLs and secret, SMTP login, health-check
// URL) and OPENAI_API_KEY, for SetLogRedactor.
std::shared_ptr<const Redactor> SecretRedactor(const Config& config);

// What a run's notification says.
struct RunNotice {
  const RunSummary& summary;
  std::string report_path;         // "" when no failure report was written
  std::filesystem::path log_path;  // the run's NDJSON log; "" when it has none
};

// Slack's limits on a header's and a section's text, in characters.
inline constexpr size_t kSlackHeaderChars = 150;
inline constexpr size_t kSlackSectionChars = 3000;
// healthchecks.io keeps this much of a ping's body.
inline constexpr size_t kPingBodyBytes = 100000;

// True when `on` (notifications.on) lists the run's status, or lists
// "changed" and the run detected changes.
bool ShouldNotify(const std::vector<std::string>& on, const RunSummary& summary);

// The human-readable text shared by Slack and e-mail: status with emoji,
// run, env, duration, figures, changes, top failures, report path.
std::string NoticeText(const RunNotice& notice);
// Slack incoming-webhook JSON: `text` plus blocks. Every mrkdwn text is
// escaped (&, <, >: a file named "<!channel>" pings nobody) and cut to
// Slack's limits with a marker; the header to kSlackHeaderChars.
std::string SlackPayload(const RunNotice& notice);
// `text` with &, < and > as Slack's mrkdwn wants them (&amp; &lt; &gt;).
std::string SlackEscape(std::string_view text);
// `text` cut to at most `max_chars` characters (code points), ending in
// " …[truncated]" when cut; never inside a character or an &entity;.
std::string TruncateForSlack(std::string_view text, size_t max_chars);
// The generic webhook's body, in the Standard Webhooks shape:
// {"type":"ingestfleet.run.<status>","timestamp":"<RFC 3339>","data":<summary>}.
std::string WebhookBody(const RunSummary& summary, WallTime now);
// The last lines of `run_id` in the NDJSON log at `path`, at most
// `max_bytes` of them, whole lines only; "" when the log cannot be read.
std::string RunLogTail(const std::filesystem::path& path, const std::string& run_id, size_t max_bytes);
// A health-check ping's URL: `base` + `suffix` ("/start", "", "/3") with
// ?rid= pairing a run's start and end pings.
std::string HealthPingUrl(const std::string& base, const std::string& suffix, const std::string& rid);
// The whole message (RFC 5322 headers, CRLF line ends, UTF-8 body).
std::string MailContent(const EmailConfig& email, const RunNotice& notice, WallTime now);
// Headers of a generic webhook delivery: X-Ingestfleet-Signature
// (sha256=hex HMAC of the body with the secret), X-Ingestfleet-Delivery, and
// the Standard Webhooks webhook-id / webhook-timestamp / webhook-signature
// (v1,base64 HMAC of "id.timestamp.body"; a "whsec_" secret is base64 of the
// key, as those libraries expect). No signatures without a secret.
std::vector<std::pair<std::string, std::string>> WebhookHeaders(const std::string& secret,
                                                                const std::string& delivery_id, int64_t unix_time,
                                                                const std::string& body);

// Sends a run's notifications: health pings at start and end, and one
// message per configured channel (Slack, webhook, e-mail) when the outcome
// is in notifications.on. Each delivery is tried notifications.attempts
// times while the failure is transient (no answer, 5xx, 429), after a
// doubling backoff with jitter or, when the receiver says so, its
// Retry-After. A 410 is logged as permanent. Every failure is logged by
// channel name, never with the URL or address. Nothing here changes the
// run's outcome.
class Notifier {
 public:
  explicit Notifier(NotificationsConfig config);

  void RunStarted();
  void RunFinished(const RunNotice& notice);

  // Deliveries that succeeded / that gave up, by channel name.
  const std::vector<std::string>& delivered() const { return delivered_; }
  const std::vector<std::string>& undelivered() const { return undelivered_; }

 private:
  // One try of a delivery, and the wait its receiver asked for.
  struct Attempt {
    Status status;
    std::optional<std::chrono::seconds> retry_after;
  };
  void Deliver(const std::string& channel, const std::function<Attempt()>& attempt);
  Attempt Post(const std::string& url, std::vector<std::pair<std::string, std::string>> headers,
               const std::string& body) const;

  NotificationsConfig config_;
  std::mt19937 rng_;
  // Pairs the start ping with the end ping (healthchecks.io's rid).
  std::string ping_rid_;
  std::vector<std::string> delivered_;
  std::vector<std::string> undelivered_;
};

}  // namespace ingest
