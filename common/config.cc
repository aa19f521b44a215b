#include "common/config.h"

#include <unistd.h>
#include <yaml-cpp/yaml.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <map>
#include <regex>
#include <set>
#include <sstream>

#include "common/atomic_file.h"
#include "common/cron.h"
#include "common/curve_keys.h"
#include "common/host_port.h"

namespace ingest {
namespace {

bool IsNameChar(char c, bool first) {
  return c == '_' || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (!first && c >= '0' && c <= '9');
}

// Reads the keys of one YAML mapping, interpolating scalars, and reports
// what it could not accept with the file, line and dotted key path.
class MapReader {
 public:
  MapReader(const YAML::Node& node, std::string prefix, const std::string& file, const EnvLookup& env, Status* error)
      : node_(node), prefix_(std::move(prefix)), file_(file), env_(env), error_(error) {
    if (node_ && !node_.IsNull() && !node_.IsMap()) Fail(node_, "expected a mapping");
    RefuseDuplicateKeys();
  }

  // Reports keys of the mapping that no Get call asked for.
  void Finish() {
    if (!node_ || !node_.IsMap()) return;
    for (const auto& item : node_) {
      if (!item.first.IsScalar()) continue;  // refused when the reader was made
      const std::string& key = item.first.Scalar();
      if (known_.count(key) == 0) Fail(item.first, "unknown key '" + Key(key) + "'");
    }
  }

  YAML::Node Child(const std::string& key) {
    known_.insert(key);
    if (!node_ || !node_.IsMap()) return YAML::Node();
    return node_[key];
  }

  std::string Key(const std::string& key) const { return prefix_.empty() ? key : prefix_ + "." + key; }

  bool Has(const std::string& key) {
    YAML::Node child = Child(key);
    return child && !child.IsNull();
  }

  void String(const std::string& key, std::string* out) {
    YAML::Node child = Child(key);
    if (!child || child.IsNull()) return;
    if (!child.IsScalar()) return Fail(child, "key '" + Key(key) + "': expected a string");
    Result<std::string> value = Interpolate(child.Scalar(), env_);
    if (!value.ok()) return Fail(child, "key '" + Key(key) + "': " + value.status().message());
    *out = *value;
  }

  void Path(const std::string& key, std::filesystem::path* out) {
    std::string text;
    String(key, &text);
    if (text.empty()) return;
    std::filesystem::path p(text);
    *out = p.is_absolute() ? p : (std::filesystem::path(file_).parent_path() / p).lexically_normal();
  }

  void Uint(const std::string& key, uint32_t* out, uint32_t min, uint32_t max) {
    std::string text;
    String(key, &text);
    if (text.empty()) return;
    char* end = nullptr;
    errno = 0;
    unsigned long long v = std::strtoull(text.c_str(), &end, 10);
    if (errno != 0 || *end != '\0' || text[0] == '-' || v < min || v > max) {
      return Fail(Child(key), "key '" + Key(key) + "': expected an integer in " + std::to_string(min) + ".." +
                                  std::to_string(max) + ", got '" + text + "'");
    }
    *out = static_cast<uint32_t>(v);
  }

  void Double(const std::string& key, double* out, double min, double max) {
    std::string text;
    String(key, &text);
    if (text.empty()) return;
    char* end = nullptr;
    double v = std::strtod(text.c_str(), &end);
    if (*end != '\0' || !(v >= min && v <= max)) {
      std::ostringstream range;
      range << min << ".." << max;
      return Fail(Child(key), "key '" + Key(key) + "': expected a number in " + range.str() + ", got '" + text + "'");
    }
    *out = v;
  }

  void Bool(const std::string& key, bool* out) {
    std::string text;
    String(key, &text);
    if (text.empty()) return;
    if (text == "true" || text == "yes" || text == "on") {
      *out = true;
    } else if (text == "false" || text == "no" || text == "off") {
      *out = false;
    } else {
      Fail(Child(key), "key '" + Key(key) + "': expected true or false, got '" + text + "'");
    }
  }

  void OneOf(const std::string& key, std::string* out, const std::set<std::string>& allowed) {
    String(key, out);
    if (allowed.count(*out) == 0) {
      std::string list;
      for (const auto& a : allowed) list += (list.empty() ? "" : " | ") + a;
      Fail(Child(key), "key '" + Key(key) + "': '" + *out + "' is not one of " + list);
    }
  }

  void StringList(const std::string& key, std::vector<std::string>* out) {
    YAML::Node child = Child(key);
    if (!child || child.IsNull()) return;
    if (!child.IsSequence()) return Fail(child, "key '" + Key(key) + "': expected a list");
    out->clear();
    for (const auto& item : child) {
      if (!item.IsScalar()) return Fail(item, "key '" + Key(key) + "': expected a list of strings");
      Result<std::string> value = Interpolate(item.Scalar(), env_);
      if (!value.ok()) return Fail(item, "key '" + Key(key) + "': " + value.status().message());
      out->push_back(*value);
    }
  }

  // yaml-cpp keeps both entries of a repeated key and answers with the
  // first: the second would be ignored without a word.
  void RefuseDuplicateKeys() {
    if (!node_ || !node_.IsMap()) return;
    std::map<std::string, int> first_line;
    for (const auto& item : node_) {
      // `? [a, b]: x` is valid YAML; a complex key is not one of ours.
      if (!item.first.IsScalar()) {
        Fail(item.first,
             (prefix_.empty() ? std::string("a key") : "a key of '" + prefix_ + "'") + " is not a plain string");
        continue;
      }
      const std::string key = item.first.Scalar();
      auto [at, inserted] = first_line.emplace(key, item.first.Mark().line + 1);
      if (!inserted) {
        Fail(item.first, "duplicate key '" + Key(key) + "' (first given at line " + std::to_string(at->second) + ")");
      }
    }
  }

  void Fail(const YAML::Node& at, const std::string& what) {
    if (!error_->ok()) return;  // the first error is the one worth reading
    int line = at ? at.Mark().line + 1 : node_.Mark().line + 1;
    *error_ = InvalidArgument(file_ + ":" + std::to_string(line) + ": " + what);
  }

 private:
  YAML::Node node_;
  std::string prefix_;
  const std::string& file_;
  const EnvLookup& env_;
  Status* error_;
  std::set<std::string> known_;
};

void ReadSource(const YAML::Node& node, size_t index, const std::string& file, const EnvLookup& env, Status* error,
                SourceConfig* source) {
  MapReader r(node, "sources[" + std::to_string(index) + "]", file, env, error);
  r.String("name", &source->name);
  if (source->name.empty()) r.Fail(node, "key '" + r.Key("name") + "' is required");
  r.OneOf("kind", &source->kind, {"files", "http"});
  r.Path("root", &source->root);
  if (r.Has("root")) source->root_declared_at = file + ":" + std::to_string(r.Child("root").Mark().line + 1);
  r.StringList("include", &source->include);
  r.StringList("exclude", &source->exclude);
  std::string url;
  r.String("url", &url);
  if (!url.empty()) source->urls.push_back(url);
  std::vector<std::string> urls;
  r.StringList("urls", &urls);
  source->urls.insert(source->urls.end(), urls.begin(), urls.end());
  for (const std::string& u : source->urls) {
    if (!u.starts_with("http://") && !u.starts_with("https://")) {
      r.Fail(r.Child(r.Has("urls") ? "urls" : "url"),
             "key '" + r.Key(r.Has("urls") ? "urls" : "url") + "': '" + u + "' is not an http:// or https:// URL");
    }
  }
  r.Uint("timeout_s", &source->timeout_s, 1, 3600);
  r.String("check_frequency", &source->check_frequency);
  if (Status valid = ValidateCheckFrequency(source->check_frequency); !valid.ok()) {
    r.Fail(r.Child("check_frequency"), "key '" + r.Key("check_frequency") + "': " + valid.message());
  }
  r.OneOf("priority", &source->priority, {"P0", "P1", "P2", "P3"});
  if (r.Has("rate_limit")) {
    MapReader rate(r.Child("rate_limit"), r.Key("rate_limit"), file, env, error);
    rate.Uint("requests_per_minute", &source->requests_per_minute, 1, 100000);
    rate.Finish();
  }
  if (source->kind == "files" && source->root.empty()) {
    r.Fail(node, "key '" + r.Key("root") + "' is required for kind files");
  }
  if (source->kind == "http" && source->urls.empty()) {
    r.Fail(node, "key '" + r.Key("url") + "' (or 'urls') is required for kind http");
  }
  if (source->kind == "files" && source->include.empty()) source->include = {"**/*"};
  r.Finish();
}

void ReadNotifications(MapReader& top, const std::string& file, const EnvLookup& env, Status* error,
                       NotificationsConfig* n) {
  MapReader r(top.Child("notifications"), "notifications", file, env, error);
  r.StringList("on", &n->on);
  static const std::set<std::string> kOutcomes = {"failed", "partial", "cancelled", "completed", "changed"};
  for (const auto& outcome : n->on) {
    if (kOutcomes.count(outcome) == 0) {
      r.Fail(r.Child("on"),
             "key 'notifications.on': '" + outcome + "' is not failed, partial, cancelled, completed or changed");
    }
  }
  if (r.Has("slack")) {
    MapReader slack(r.Child("slack"), "notifications.slack", file, env, error);
    slack.String("webhook_url", &n->slack_webhook_url);
    slack.Finish();
  }
  if (r.Has("webhook")) {
    MapReader hook(r.Child("webhook"), "notifications.webhook", file, env, error);
    hook.String("url", &n->webhook_url);
    hook.String("secret", &n->webhook_secret);
    hook.Finish();
  }
  if (r.Has("email")) {
    EmailConfig email;
    MapReader mail(r.Child("email"), "notifications.email", file, env, error);
    mail.String("smtp_url", &email.smtp_url);
    mail.OneOf("starttls", &email.starttls, {"required", "optional", "off"});
    mail.String("username", &email.username);
    mail.String("password", &email.password);
    mail.String("from", &email.from);
    mail.StringList("to", &email.to);
    mail.Finish();
    n->email = std::move(email);
  }
  r.String("healthcheck_url", &n->healthcheck_url);
  r.Uint("attempts", &n->attempts, 1, 20);
  r.Uint("backoff_initial_ms", &n->backoff_initial_ms, 0, 600000);
  r.Uint("timeout_s", &n->timeout_s, 1, 600);
  r.Finish();
}

Status Validate(const Config& c) {
  std::set<std::string> names;
  for (const auto& s : c.sources) {
    if (!names.insert(s.name).second) {
      return InvalidArgument(c.file.string() + ": source name '" + s.name + "' is used twice");
    }
  }
  if (c.passes.overlap_chars >= c.passes.chunk_chars) {
    return InvalidArgument(c.file.string() + ": key 'passes.C.overlap_chars' must be below chunk_chars");
  }
  return Status::Ok();
}

}  // namespace

EnvLookup ProcessEnv() {
  return [](const std::string& name) -> std::optional<std::string> {
    const char* value = std::getenv(name.c_str());
    if (value == nullptr) return std::nullopt;
    return std::string(value);
  };
}

namespace {

// NAME, or else the contents of the file NAME_FILE names (without its final
// newline): the convention of container images for secrets mounted under
// /run/secrets.
Result<std::optional<std::string>> LookUp(const std::string& name, const EnvLookup& env) {
  std::optional<std::string> value = env(name);
  if (value.has_value()) return value;
  std::optional<std::string> file = env(name + "_FILE");
  if (!file.has_value()) return value;
  Result<std::string> content = ReadFile(*file);
  if (!content.ok()) {
    return InvalidArgument("environment variable " + name + "_FILE: " + content.status().message());
  }
  std::string secret = std::move(*content);
  if (!secret.empty() && secret.back() == '\n') secret.pop_back();
  if (!secret.empty() && secret.back() == '\r') secret.pop_back();
  return std::optional<std::string>(std::move(secret));
}

}  // namespace

Result<std::string> Interpolate(std::string_view text, const EnvLookup& env) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '$') {
      out.push_back(text[i]);
      continue;
    }
    if (i + 1 < text.size() && text[i + 1] == '$') {
      out.push_back('$');
      ++i;
      continue;
    }
    if (i + 1 < text.size() && text[i + 1] == '{') {
      size_t close = text.find('}', i + 2);
      if (close == std::string_view::npos) return InvalidArgument("unterminated '${' in '" + std::string(text) + "'");
      std::string_view expr = text.substr(i + 2, close - i - 2);
      size_t n = 0;
      while (n < expr.size() && IsNameChar(expr[n], n == 0)) ++n;
      if (n == 0) return InvalidArgument("invalid variable reference '${" + std::string(expr) + "}'");
      std::string name(expr.substr(0, n));
      std::string_view op = expr.substr(n);
      INGEST_ASSIGN_OR_RETURN(std::optional<std::string> value, LookUp(name, env));
      bool colon = !op.empty() && op[0] == ':';
      if (colon) op.remove_prefix(1);
      bool missing = !value.has_value() || (colon && value->empty());
      if (op.empty()) {
        if (colon) return InvalidArgument("invalid variable reference '${" + std::string(expr) + "}'");
        if (!value.has_value()) {
          return InvalidArgument("environment variable " + name + " is not set (use ${" + name +
                                 ":-default} for a default)");
        }
        out += *value;
      } else if (op[0] == '-') {
        out += missing ? std::string(op.substr(1)) : *value;
      } else if (op[0] == '?') {
        if (missing) {
          std::string message(op.substr(1));
          return InvalidArgument("environment variable " + name + " is required" +
                                 (message.empty() ? "" : ": " + message));
        }
        out += *value;
      } else {
        return InvalidArgument("invalid variable reference '${" + std::string(expr) + "}'");
      }
      i = close;
      continue;
    }
    size_t n = 0;
    while (i + 1 + n < text.size() && IsNameChar(text[i + 1 + n], n == 0)) ++n;
    if (n == 0) {
      out.push_back('$');  // a lone '$' stays, as in compose
      continue;
    }
    std::string name(text.substr(i + 1, n));
    INGEST_ASSIGN_OR_RETURN(std::optional<std::string> value, LookUp(name, env));
    if (!value.has_value()) return InvalidArgument("environment variable " + name + " is not set");
    out += *value;
    i += n;
  }
  return out;
}

Status ValidateCheckFrequency(const std::string& text) {
  if (text == "hourly" || text == "daily" || text == "weekly") return Status::Ok();
  Result<CronExpression> cron = CronExpression::Parse(text);
  if (cron.ok()) return Status::Ok();
  return InvalidArgument("'" + text + "' is not hourly, daily, weekly or a 5-field cron expression (" +
                         cron.status().message() + ")");
}

bool IsValidEnvName(const std::string& text) {
  static const std::regex kEnv("[a-z0-9-]+");
  return std::regex_match(text, kEnv);
}

Result<Config> LoadConfig(const std::filesystem::path& file, const EnvLookup& env) {
  Result<std::string> text = ReadFile(file);
  if (!text.ok()) return text.status().WithContext("config");
  Config config;
  config.file = std::filesystem::absolute(file).lexically_normal();
  const std::string name = config.file.string();
  YAML::Node root;
  try {
    root = YAML::Load(*text);
  } catch (const YAML::Exception& e) {
    return InvalidArgument(name + ":" + std::to_string(e.mark.line + 1) + ": " + e.msg);
  }
  if (!root.IsMap()) return InvalidArgument(name + ": expected a mapping at the top level");

  Status error;
  MapReader top(root, "", name, env, &error);
  top.String("env", &config.env);
  if (config.env.empty())
    top.Fail(root, "key 'env' is required");
  else if (!IsValidEnvName(config.env))
    top.Fail(top.Child("env"), "key 'env': '" + config.env + "' is not [a-z0-9-]+");
  config.artifact_root = config.file.parent_path() / "artifacts";
  config.state_db = config.file.parent_path() / "state" / "ingest.db";
  config.report_dir = config.file.parent_path() / "docs" / "bugs";
  top.Path("artifact_root", &config.artifact_root);
  top.Path("state_db", &config.state_db);
  top.Path("report_dir", &config.report_dir);
  {
    MapReader r(top.Child("schedule"), "schedule", name, env, &error);
    r.String("cron", &config.schedule.cron);
    if (Result<CronExpression> cron = CronExpression::Parse(config.schedule.cron); !cron.ok()) {
      r.Fail(r.Child("cron"), "key 'schedule.cron': " + cron.status().message());
    }
    r.String("timezone", &config.schedule.timezone);
    if (Result<absl::TimeZone> zone = LoadZone(config.schedule.timezone); !zone.ok()) {
      r.Fail(r.Child("timezone"), "key 'schedule.timezone': " + zone.status().message());
    }
    r.Finish();
  }
  {
    MapReader r(top.Child("fleet"), "fleet", name, env, &error);
    FleetConfig& f = config.fleet;
    r.String("bind", &f.bind);
    r.Uint("heartbeat_ms", &f.heartbeat_ms, 10, 600000);
    r.Uint("liveness", &f.liveness, 1, 1000);
    r.Uint("task_timeout_s", &f.task_timeout_s, 1, 86400 * 7);
    r.Uint("batch_max_tasks", &f.batch_max_tasks, 1, 1024);
    r.Uint("min_workers", &f.min_workers, 0, 100000);
    r.Uint("wait_for_workers_s", &f.wait_for_workers_s, 0, 86400);
    if (r.Has("curve")) {
      MapReader curve(r.Child("curve"), "fleet.curve", name, env, &error);
      curve.Path("secret_key_file", &f.curve_secret_key_file);
      curve.Path("authorized_keys_file", &f.curve_authorized_keys_file);
      if (f.curve_secret_key_file.empty() || f.curve_authorized_keys_file.empty()) {
        r.Fail(r.Child("curve"), "key 'fleet.curve': needs both secret_key_file and authorized_keys_file");
      } else if (Result<CurveKeyPair> keys = ReadCurveSecretKey(f.curve_secret_key_file); !keys.ok()) {
        curve.Fail(curve.Child("secret_key_file"), "key 'fleet.curve.secret_key_file': " + keys.status().message());
      } else if (Result<std::vector<std::string>> allowed = ReadAuthorizedKeys(f.curve_authorized_keys_file);
                 !allowed.ok()) {
        curve.Fail(curve.Child("authorized_keys_file"),
                   "key 'fleet.curve.authorized_keys_file': " + allowed.status().message());
      } else {
        f.curve_secret_key = keys->secret_key;
        f.curve_public_key = keys->public_key;
        f.curve_authorized_keys = std::move(*allowed);
      }
      curve.Finish();
    }
    r.Finish();
  }
  {
    MapReader r(top.Child("retry"), "retry", name, env, &error);
    r.Uint("attempts", &config.retry.attempts, 1, 100);
    r.Uint("backoff_initial_ms", &config.retry.backoff_initial_ms, 0, 3600000);
    r.Uint("backoff_max_ms", &config.retry.backoff_max_ms, 0, 86400000);
    r.Bool("jitter", &config.retry.jitter);
    r.Finish();
  }
  {
    MapReader r(top.Child("run"), "run", name, env, &error);
    r.Double("max_failed_fraction", &config.run.max_failed_fraction, 0.0, 1.0);
    r.Uint("quarantine_after", &config.run.quarantine_after, 1, 1000);
    r.Uint("cancel_grace_s", &config.run.cancel_grace_s, 0, 86400);
    r.Uint("deadline_s", &config.run.deadline_s, 0, 7 * 86400);
    r.Finish();
  }
  {
    YAML::Node sources = top.Child("sources");
    if (!sources || !sources.IsSequence() || sources.size() == 0) {
      top.Fail(sources ? sources : root, "key 'sources': expected a non-empty list");
    } else {
      for (size_t i = 0; i < sources.size(); ++i) {
        SourceConfig source;
        ReadSource(sources[i], i, name, env, &error, &source);
        config.sources.push_back(std::move(source));
      }
    }
  }
  {
    MapReader r(top.Child("passes"), "passes", name, env, &error);
    for (const char* pass : {"A", "D", "E", "F"}) {
      if (r.Has(pass)) MapReader(r.Child(pass), r.Key(pass), name, env, &error).Finish();
    }
    MapReader b(r.Child("B"), "passes.B", name, env, &error);
    b.Double("split_threshold_mb", &config.passes.split_threshold_mb, 0.001, 1e6);
    b.Uint("split_pages", &config.passes.split_pages, 1, 1000000);
    b.Finish();
    MapReader c(r.Child("C"), "passes.C", name, env, &error);
    c.Uint("chunk_chars", &config.passes.chunk_chars, 64, 1000000);
    c.Uint("overlap_chars", &config.passes.overlap_chars, 0, 1000000);
    c.Finish();
    r.Finish();
  }
  ReadNotifications(top, name, env, &error, &config.notifications);
  {
    MapReader r(top.Child("admin"), "admin", name, env, &error);
    r.String("listen", &config.admin.listen);
    r.Path("token_file", &config.admin.token_file);
    r.Path("read_token_file", &config.admin.read_token_file);
    if (r.Has("tls")) {
      MapReader tls(r.Child("tls"), "admin.tls", name, env, &error);
      tls.Path("cert", &config.admin.tls_cert);
      tls.Path("key", &config.admin.tls_key);
      tls.Path("client_ca", &config.admin.tls_client_ca);
      if (config.admin.tls_cert.empty() != config.admin.tls_key.empty()) {
        r.Fail(r.Child("tls"), "key 'admin.tls': needs both cert and key");
      }
      if (!config.admin.tls_client_ca.empty() && config.admin.tls_cert.empty()) {
        r.Fail(r.Child("tls"), "key 'admin.tls.client_ca': mutual TLS needs cert and key too");
      }
      tls.Finish();
    }
    if (!config.admin.read_token_file.empty() && config.admin.token_file.empty()) {
      r.Fail(r.Child("read_token_file"), "key 'admin.read_token_file': needs admin.token_file as well");
    }
    r.Finish();
  }
  {
    MapReader r(top.Child("metrics"), "metrics", name, env, &error);
    r.String("listen", &config.metrics.listen);
    r.String("pushgateway_url", &config.metrics.pushgateway_url);
    const std::string& url = config.metrics.pushgateway_url;
    if (!url.empty() && url.rfind("http://", 0) != 0 && url.rfind("https://", 0) != 0) {
      r.Fail(r.Child("pushgateway_url"), "key 'metrics.pushgateway_url': expected an http:// or https:// URL");
    }
    r.Finish();
  }
  {
    MapReader r(top.Child("web"), "web", name, env, &error);
    r.String("listen", &config.web.listen);
    if (!config.web.listen.empty() && SplitHostPort(config.web.listen).second.empty()) {
      r.Fail(r.Child("listen"), "key 'web.listen': '" + config.web.listen + "' is not host:port");
    }
    r.Finish();
  }
  {
    MapReader r(top.Child("ai_report"), "ai_report", name, env, &error);
    r.String("base_url", &config.ai_report.base_url);
    r.String("model", &config.ai_report.model);
    r.Uint("timeout_s", &config.ai_report.timeout_s, 1, 3600);
    r.Finish();
  }
  {
    MapReader r(top.Child("retention"), "retention", name, env, &error);
    r.Uint("compress_after_days", &config.retention.compress_after_days, 0, 100000);
    r.Uint("delete_after_days", &config.retention.delete_after_days, 0, 100000);
    r.Uint("keep_last_jobs", &config.retention.keep_last_jobs, 0, 100000);
    r.Finish();
  }
  top.Finish();
  if (!error.ok()) return error;
  INGEST_RETURN_IF_ERROR(Validate(config));
  return config;
}

std::vector<std::string> CheckSourceRoots(const Config& config) {
  std::vector<std::string> problems;
  for (size_t i = 0; i < config.sources.size(); ++i) {
    const SourceConfig& source = config.sources[i];
    if (source.kind != "files") continue;
    std::error_code ec;
    const std::filesystem::file_status st = std::filesystem::status(source.root, ec);
    std::string wrong;
    if (st.type() == std::filesystem::file_type::not_found) {
      wrong = "does not exist";
    } else if (ec) {
      wrong = "cannot be read: " + ec.message();
    } else if (!std::filesystem::is_directory(st)) {
      wrong = "is not a directory";
    } else if (::access(source.root.c_str(), R_OK | X_OK) != 0) {
      wrong = "cannot be listed: " + std::string(std::strerror(errno));
    }
    if (!wrong.empty()) {
      problems.push_back(source.root_declared_at + ": key 'sources[" + std::to_string(i) +
                         "].root': " + source.root.string() + " " + wrong + " (source " + source.name + ")");
    }
  }
  return problems;
}

}  // namespace ingest
