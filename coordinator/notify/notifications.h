#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>
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
  std::string report_path;  // "" when no failure report was written
};

// True when `on` (notifications.on) lists the run's status, or lists
// "changed" and the run detected changes.
bool ShouldNotify(const std::vector<std::string>& on, const RunSummary& summary);

// The human-readable text shared by Slack and e-mail: status with emoji,
// run, env, duration, figures, changes, top failures, report path.
std::string NoticeText(const RunNotice& notice);
// Slack incoming-webhook JSON: `text` plus blocks.
std::string SlackPayload(const RunNotice& notice);
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
// times with doubling backoff while the failure is transient (no answer,
// 5xx, 429); every failure is logged by channel name, never with the URL or
// address. Nothing here changes the run's outcome.
class Notifier {
 public:
  explicit Notifier(NotificationsConfig config);

  void RunStarted();
  void RunFinished(const RunNotice& notice);

  // Deliveries that succeeded / that gave up, by channel name.
  const std::vector<std::string>& delivered() const { return delivered_; }
  const std::vector<std::string>& undelivered() const { return undelivered_; }

 private:
  void Deliver(const std::string& channel, const std::function<Status()>& attempt);

  NotificationsConfig config_;
  std::vector<std::string> delivered_;
  std::vector<std::string> undelivered_;
};

}  // namespace ingest
