#include "common/ids.h"

#include <ctime>
#include <regex>

namespace ingest {
namespace {

std::tm ToUtc(WallTime t) {
  std::time_t secs = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  return tm;
}

std::string Format(WallTime t, const char* format) {
  std::tm tm = ToUtc(t);
  char buf[64];
  size_t n = std::strftime(buf, sizeof buf, format, &tm);
  return std::string(buf, n);
}

}  // namespace

JobId MakeJobId(WallTime now) { return JobId{Format(now, "job_%Y-%m-%dT%H-%M-%S")}; }

RunId MakeRunId(WallTime now, int pid) { return RunId{Format(now, "run_%Y%m%d_%H%M%S_") + std::to_string(pid)}; }

bool IsValidJobId(const std::string& text) {
  static const std::regex kPattern(R"(job_\d{4}-\d{2}-\d{2}T\d{2}-\d{2}-\d{2})");
  return std::regex_match(text, kPattern);
}

std::string FormatTimestamp(WallTime t) {
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count() % 1000;
  char millis[8];
  std::snprintf(millis, sizeof millis, ".%03lldZ", static_cast<long long>(ms));
  return Format(t, "%Y-%m-%dT%H:%M:%S") + millis;
}

std::string FormatCompactUtc(WallTime t) { return Format(t, "%Y%m%d_%H%M%S"); }

int64_t UnixNow() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

}  // namespace ingest
