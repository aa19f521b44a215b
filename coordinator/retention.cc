#include "coordinator/retention.h"

#include <algorithm>
#include <ctime>
#include <vector>

#include <spdlog/spdlog.h>

#include "common/manifest.h"

namespace ingest {
namespace {

// Start time of a job from its id (job_YYYY-MM-DDTHH-MM-SS, UTC).
WallTime JobTime(const std::string& job_id) {
  std::tm tm{};
  std::sscanf(job_id.c_str(), "job_%d-%d-%dT%d-%d-%d", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour, &tm.tm_min,
              &tm.tm_sec);
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  return std::chrono::system_clock::from_time_t(timegm(&tm));
}

}  // namespace

Result<uint32_t> RemoveStaleJobs(const std::filesystem::path& env_dir, const std::string& current_job,
                                 const RetentionConfig& retention, WallTime now) {
  std::error_code ec;
  std::vector<std::string> jobs;
  for (const auto& entry : std::filesystem::directory_iterator(env_dir, ec)) {
    std::string name = entry.path().filename().string();
    if (entry.is_directory() && IsValidJobId(name)) jobs.push_back(name);
  }
  if (ec) return ErrnoStatus(ec.value(), env_dir.string());
  std::sort(jobs.rbegin(), jobs.rend());  // newest first

  uint32_t kept_completed = 0;
  uint32_t deleted = 0;
  const auto max_age = std::chrono::hours(24) * retention.delete_after_days;
  for (const std::string& job : jobs) {
    if (job == current_job) continue;
    Result<Manifest> manifest = LoadManifest(env_dir / job / kManifestFileName);
    bool completed = manifest.ok() && manifest->status() == kJobCompleted;
    if (completed && kept_completed < retention.keep_last_jobs) {
      ++kept_completed;
      continue;
    }
    if (now - JobTime(job) <= max_age) continue;
    std::filesystem::remove_all(env_dir / job, ec);
    if (ec) return ErrnoStatus(ec.value(), "retention: deleting " + (env_dir / job).string());
    spdlog::info("retention: deleted job {} (older than {} days)", job, retention.delete_after_days);
    ++deleted;
  }
  return deleted;
}

}  // namespace ingest
