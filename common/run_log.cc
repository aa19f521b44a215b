#include "common/run_log.h"

#include <spdlog/sinks/base_sink.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <mutex>

#include "common/ids.h"
#include "common/proto_json.h"
#include "common/redact.h"
#include "common/utf8.h"
#include "proto/manifest.pb.h"

namespace ingest {
namespace {

// Fields of the event being logged on this thread; spdlog calls sinks
// synchronously on the logging thread, so the sink can read them.
thread_local const EventFields* tls_event = nullptr;
thread_local std::string tls_pass;

class NdjsonSink final : public spdlog::sinks::base_sink<std::mutex> {
 public:
  NdjsonSink(std::FILE* file, RunLogContext context) : file_(file), context_(std::move(context)) {}
  ~NdjsonSink() override { std::fclose(file_); }

 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override {
    LogLine event;
    event.set_ts(FormatTimestamp(msg.time));
    auto level = spdlog::level::to_string_view(msg.level);
    event.set_level(std::string(level.data(), level.size()));
    event.set_env(context_.env);
    event.set_job_id(context_.job_id);
    event.set_run_id(context_.run_id);
    event.set_pass(tls_pass);
    event.set_message(Redact(std::string_view(msg.payload.data(), msg.payload.size())));
    if (tls_event != nullptr) {
      if (!tls_event->pass.empty()) event.set_pass(tls_event->pass);
      event.set_status(tls_event->status);
      event.set_error(Redact(tls_event->error));
      event.set_count(static_cast<uint32_t>(tls_event->count));
      event.set_duration_s(tls_event->duration_s);
    }
    std::string line = ToJson(event);
    line.push_back('\n');
    std::fwrite(line.data(), 1, line.size(), file_);
    // One line per event, visible to `tail -f` at once.
    std::fflush(file_);
  }
  void flush_() override { std::fflush(file_); }

 private:
  std::FILE* file_;
  RunLogContext context_;
};

// Hands lines to `inner` with secrets and e-mail addresses redacted.
class RedactingSink final : public spdlog::sinks::base_sink<std::mutex> {
 public:
  explicit RedactingSink(std::shared_ptr<spdlog::sinks::sink> inner) : inner_(std::move(inner)) {}

 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override {
    const std::string redacted = Redact(std::string_view(msg.payload.data(), msg.payload.size()));
    spdlog::details::log_msg copy = msg;
    copy.payload = spdlog::string_view_t(redacted.data(), redacted.size());
    inner_->log(copy);
  }
  void flush_() override { inner_->flush(); }
  void set_pattern_(const std::string& pattern) override { inner_->set_pattern(pattern); }
  void set_formatter_(std::unique_ptr<spdlog::formatter> formatter) override {
    inner_->set_formatter(std::move(formatter));
  }

 private:
  std::shared_ptr<spdlog::sinks::sink> inner_;
};

// Keeps a status line (progress) below the log lines of a terminal: it is
// taken away before a log line is written and drawn again after it. Only
// carriage returns and spaces, no escape codes, so NO_COLOR holds.
class StatusLineSink final : public spdlog::sinks::base_sink<std::mutex> {
 public:
  explicit StatusLineSink(std::shared_ptr<spdlog::sinks::sink> inner) : inner_(std::move(inner)) {}

  void SetStatus(std::string text) {
    std::lock_guard lock(mutex_);
    // A line longer than the terminal would wrap, and \r would then redraw
    // only its last row.
    winsize size{};
    const size_t width = ::ioctl(STDERR_FILENO, TIOCGWINSZ, &size) == 0 && size.ws_col > 1 ? size.ws_col - 1 : 79;
    if (CountCodePoints(text) > width) text.resize(Utf8FloorBoundary(text, width));
    Erase();
    status_ = std::move(text);
    Draw();
  }

 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override {
    Erase();
    inner_->log(msg);
    Draw();
  }
  void flush_() override { inner_->flush(); }
  void set_pattern_(const std::string& pattern) override { inner_->set_pattern(pattern); }
  void set_formatter_(std::unique_ptr<spdlog::formatter> formatter) override {
    inner_->set_formatter(std::move(formatter));
  }

 private:
  void Erase() {
    if (status_.empty()) return;
    std::string blank(CountCodePoints(status_) + 2, ' ');
    blank.front() = '\r';
    blank.back() = '\r';
    std::fwrite(blank.data(), 1, blank.size(), stderr);
  }
  void Draw() {
    if (status_.empty()) return;
    std::fputc('\r', stderr);
    std::fwrite(status_.data(), 1, status_.size(), stderr);
    std::fflush(stderr);
  }

  std::shared_ptr<spdlog::sinks::sink> inner_;
  std::string status_;
};

std::shared_ptr<StatusLineSink>& StatusLine() {
  static std::shared_ptr<StatusLineSink> sink;
  return sink;
}

}  // namespace

bool StderrIsTerminal() { return ::isatty(STDERR_FILENO) == 1; }

void SetStatusLine(std::string text) {
  if (StatusLine() != nullptr) StatusLine()->SetStatus(std::move(text));
}

void InitLogging(spdlog::level::level_enum level) {
  const char* no_color = std::getenv("NO_COLOR");
  const bool colour = no_color == nullptr || *no_color == '\0';
  std::shared_ptr<spdlog::sinks::sink> stderr_sink = std::make_shared<spdlog::sinks::stderr_color_sink_mt>(
      colour ? spdlog::color_mode::automatic : spdlog::color_mode::never);
  if (StderrIsTerminal()) {
    StatusLine() = std::make_shared<StatusLineSink>(stderr_sink);
    stderr_sink = StatusLine();
  }
  auto logger = std::make_shared<spdlog::logger>("ingest", std::make_shared<RedactingSink>(stderr_sink));
  spdlog::register_logger(logger);
  logger->set_pattern("%Y-%m-%dT%H:%M:%S.%eZ %^%l%$ %v", spdlog::pattern_time_type::utc);
  logger->set_level(level);
  spdlog::set_default_logger(logger);
}

Result<std::unique_ptr<RunLog>> RunLog::Attach(const std::filesystem::path& path, RunLogContext context) {
  std::FILE* file = std::fopen(path.c_str(), "ae");
  if (file == nullptr) return ErrnoStatus(errno, path.string());
  std::unique_ptr<RunLog> log(new RunLog());
  log->sink_ = std::make_shared<NdjsonSink>(file, std::move(context));
  spdlog::default_logger()->sinks().push_back(log->sink_);
  return log;
}

RunLog::~RunLog() {
  auto& sinks = spdlog::default_logger()->sinks();
  std::erase(sinks, sink_);
  sink_->flush();
}

void LogEvent(spdlog::level::level_enum level, const EventFields& fields, std::string_view message) {
  tls_event = &fields;
  spdlog::log(level, "{}", message);
  tls_event = nullptr;
}

ScopedLogPass::ScopedLogPass(std::string pass) : previous_(std::move(tls_pass)) { tls_pass = std::move(pass); }

ScopedLogPass::~ScopedLogPass() { tls_pass = std::move(previous_); }

}  // namespace ingest
