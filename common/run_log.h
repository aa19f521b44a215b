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
// for the run summary). `verbose` adds debug lines.
void InitLogging(bool verbose);

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
