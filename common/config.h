#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"

namespace ingest {

// The configuration file (SPEC §7). Relative paths are resolved against the
// file's directory by LoadConfig, so every path here is absolute.

struct SourceConfig {
  std::string name;
  std::string kind;  // files | http
  std::filesystem::path root;
  // "FILE:LINE" of the `root` key, for errors about the directory it names.
  std::string root_declared_at;
  std::vector<std::string> include;
  std::vector<std::string> exclude;
  // http: the pages of the source (`url` and `urls` together), fetched
  // with this timeout each.
  std::vector<std::string> urls;
  uint32_t timeout_s = 30;
  std::string check_frequency = "daily";  // hourly | daily | weekly | 5-field cron
  std::string priority = "P2";            // P0 (first) .. P3
  uint32_t requests_per_minute = 0;       // http only; 0 = unlimited
};

struct FleetConfig {
  std::string bind = "tcp://*:5555";
  uint32_t heartbeat_ms = 1000;
  uint32_t liveness = 3;  // missed heartbeats before a worker is dead
  uint32_t task_timeout_s = 600;
  // Most tasks in one dispatch to a worker (fewer near the end of a pass).
  uint32_t batch_max_tasks = 64;
  uint32_t min_workers = 1;
  uint32_t wait_for_workers_s = 120;
  // CurveZMQ: both files or neither. LoadConfig reads the keys (Z85).
  std::filesystem::path curve_secret_key_file;
  std::filesystem::path curve_authorized_keys_file;
  std::string curve_secret_key;
  std::string curve_public_key;
  std::vector<std::string> curve_authorized_keys;
  bool curve() const { return !curve_secret_key.empty(); }
};

struct RetryConfig {
  uint32_t attempts = 3;
  uint32_t backoff_initial_ms = 500;
  uint32_t backoff_max_ms = 60000;
  bool jitter = true;
};

struct RunPolicyConfig {
  double max_failed_fraction = 1.0;
  uint32_t quarantine_after = 3;
  // A cancelled run gives its running tasks this long to send their results.
  uint32_t cancel_grace_s = 30;
  // Past this many seconds the run is cancelled as by CancelRun; 0 is off.
  uint32_t deadline_s = 0;
};

struct PassesConfig {
  double split_threshold_mb = 20;
  uint32_t split_pages = 200;
  uint32_t chunk_chars = 1200;
  uint32_t overlap_chars = 150;
};

struct EmailConfig {
  std::string smtp_url;
  std::string starttls = "required";  // required | optional | off
  std::string username;
  std::string password;
  std::string from;
  std::vector<std::string> to;
};

struct NotificationsConfig {
  std::vector<std::string> on = {"failed", "partial"};
  std::string slack_webhook_url;
  std::string webhook_url;
  std::string webhook_secret;
  std::optional<EmailConfig> email;
  std::string healthcheck_url;
  // Delivery of each channel: tries, the first backoff (doubling, with
  // jitter), and the time limit of one try (Slack's and the Standard
  // Webhooks' receivers answer within 15-30 s).
  uint32_t attempts = 3;
  uint32_t backoff_initial_ms = 1000;
  uint32_t timeout_s = 20;
};

// The admin API (SPEC §12).
inline constexpr char kDefaultAdminListen[] = "127.0.0.1:50051";

struct AdminConfig {
  // host:port; empty: `run` serves no API and `serve` listens on
  // kDefaultAdminListen. Port 0 picks a free one.
  std::string listen;
  // The operate token (every call) and the read-only token; without a token
  // the API is served on loopback only.
  std::filesystem::path token_file;
  std::filesystem::path read_token_file;
  // TLS; a client CA turns on mutual TLS.
  std::filesystem::path tls_cert;
  std::filesystem::path tls_key;
  std::filesystem::path tls_client_ca;
};

// Prometheus metrics (README, "Metrics").
struct MetricsConfig {
  // host:port of the /metrics endpoint; empty: none. Port 0 picks a free one.
  std::string listen;
  // http://host:port of a Pushgateway; a `run` pushes its metrics there as
  // it ends (a CronJob's run is gone before a scrape). Empty: no push.
  std::string pushgateway_url;
};

// The read-only status page (README, "Status page").
struct WebConfig {
  // host:port of the page; empty (the default): none. Port 0 picks a free
  // one. Guarded by the admin tokens; without one it binds loopback only.
  std::string listen;
};

struct AiReportConfig {
  std::string base_url = "https://api.openai.com/v1";
  std::string model = "gpt-4o-mini";
  uint32_t timeout_s = 30;
};

struct RetentionConfig {
  uint32_t compress_after_days = 7;
  uint32_t delete_after_days = 30;
  uint32_t keep_last_jobs = 5;
};

struct ScheduleConfig {
  std::string cron = "0 2 * * *";
  std::string timezone = "UTC";
};

struct Config {
  std::filesystem::path file;
  std::string env;
  std::filesystem::path artifact_root;
  std::filesystem::path state_db;
  std::filesystem::path report_dir;
  ScheduleConfig schedule;
  FleetConfig fleet;
  RetryConfig retry;
  RunPolicyConfig run;
  std::vector<SourceConfig> sources;
  PassesConfig passes;
  NotificationsConfig notifications;
  AdminConfig admin;
  MetricsConfig metrics;
  WebConfig web;
  AiReportConfig ai_report;
  RetentionConfig retention;
};

// Looks up an environment variable; nullopt when it is not set.
using EnvLookup = std::function<std::optional<std::string>(const std::string&)>;
EnvLookup ProcessEnv();

// Expands ${VAR}, ${VAR:-default}, ${VAR-default}, ${VAR:?message},
// ${VAR?message}, $VAR and $$ as docker compose does. An unset VAR with
// VAR_FILE set takes that file's contents, less a final newline (secrets
// under /run/secrets). An unset variable without a default is
// InvalidArgument naming it.
Result<std::string> Interpolate(std::string_view text, const EnvLookup& env);

// Loads and validates a config file. InvalidArgument messages read
// "FILE:LINE: key 'fleet.liveness': ..." for unknown keys, bad values and
// unset variables.
Result<Config> LoadConfig(const std::filesystem::path& file, const EnvLookup& env = ProcessEnv());

// What `check` adds to LoadConfig: every files source's root is a
// directory this process can list. A run does not refuse the config for it
// (that source alone fails, SPEC §10); each problem reads
// "FILE:LINE: key 'sources[N].root': ROOT does not exist (source NAME)".
std::vector<std::string> CheckSourceRoots(const Config& config);

// hourly, daily, weekly or a 5-field cron expression; InvalidArgument says
// what is wrong with anything else.
Status ValidateCheckFrequency(const std::string& text);
// [a-z0-9-]+
bool IsValidEnvName(const std::string& text);

}  // namespace ingest
