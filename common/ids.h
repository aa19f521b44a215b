#pragma once

#include <chrono>
#include <compare>
#include <cstdint>
#include <string>

namespace ingest {

// Distinct id types so a job id cannot be passed where a run id is expected.
template <typename Tag>
struct Id {
  std::string value;
  bool empty() const { return value.empty(); }
  auto operator<=>(const Id&) const = default;  // NOLINT(modernize-use-nullptr): clang-tidy 14 misreads it
};

struct JobIdTag {};
struct RunIdTag {};
struct TaskIdTag {};
struct WorkerIdTag {};
using JobId = Id<JobIdTag>;        // job_YYYY-MM-DDTHH-MM-SS (UTC)
using RunId = Id<RunIdTag>;        // run_YYYYMMDD_HHMMSS_<pid>
using TaskId = Id<TaskIdTag>;      // <pass>-<source_id>-<part>
using WorkerId = Id<WorkerIdTag>;  // as the worker announces itself

using WallTime = std::chrono::system_clock::time_point;

JobId MakeJobId(WallTime now);
RunId MakeRunId(WallTime now, int pid);
bool IsValidJobId(const std::string& text);

// RFC 3339 UTC with milliseconds: 2026-11-22T02:00:00.123Z
std::string FormatTimestamp(WallTime t);
// RUN-YYYYMMDD_HHMMSS style compact UTC stamp: 20261122_020000
std::string FormatCompactUtc(WallTime t);
// Seconds since the Unix epoch, now (heartbeats, webhook timestamps).
int64_t UnixNow();

}  // namespace ingest
