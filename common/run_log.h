#pragma once

#include <spdlog/spdlog.h>

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>

#include "common/status.h"

namespace ingest {

// Identity stamped on every line of a job's run.ndjson.
struct RunLogContext {
  std::string env;
  std::string job_id;
  std::string run_id;
};

// Structured fields of one event. Unset fields print as "" / 0 so every line
// has the same keys.
struct EventFields {
  std::string pass;
  std::string status;
  std::string error;
  uint64_t count = 0;
  double duration_s = 0;
};

// Sets up the default logger: human-readable lines on stderr (stdout is kept
// for the run summary) from `level` up, stamped in UTC as RFC 3339 like the
// NDJSON log ("2026-12-06T02:00:00.123Z"). Colours only on a terminal, and
// not when NO_COLOR is set (no-color.org).
void InitLogging(spdlog::level::level_enum level);

// True when stderr is a terminal.
bool StderrIsTerminal();
// On a terminal (once InitLogging ran), shows `text` as a line kept below
// the log lines on stderr and redrawn in place; "" takes it away. Cut to
// the terminal's width. Does nothing when stderr is not a terminal.
void SetStatusLine(std::string text);

// Appends every log line, from any thread, to `path` as one JSON object
// (proto LogLine). Attach with AttachRunLog; lines go to stderr too.
class RunLog {
 public:
  // Opens `path` for appending and attaches the sink to the default logger.
  static Result<std::unique_ptr<RunLog>> Attach(const std::filesystem::path& path, RunLogContext context);
  // Detaches and flushes.
  ~RunLog();

  RunLog(const RunLog&) = delete;
  RunLog& operator=(const RunLog&) = delete;

 private:
  RunLog() = default;
  std::shared_ptr<spdlog::sinks::sink> sink_;
};

// Logs `message` with structured `fields` through the default logger.
void LogEvent(spdlog::level::level_enum level, const EventFields& fields, std::string_view message);

// While alive, plain log lines from this thread carry `pass`.
class ScopedLogPass {
 public:
  explicit ScopedLogPass(std::string pass);
  ~ScopedLogPass();

 private:
  std::string previous_;
};

}  // namespace ingest
