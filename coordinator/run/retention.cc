#include "coordinator/run/retention.h"

#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <ctime>
#include <vector>

#include "common/atomic_file.h"
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

// Job directories of the env, newest first.
Result<std::vector<std::string>> JobsNewestFirst(const std::filesystem::path& env_dir) {
  std::error_code ec;
  std::vector<std::string> jobs;
  for (const auto& entry : std::filesystem::directory_iterator(env_dir, ec)) {
    std::string name = entry.path().filename().string();
    if (entry.is_directory() && IsValidJobId(name)) jobs.push_back(name);
  }
  if (ec) return ErrnoStatus(ec.value(), env_dir.string());
  std::sort(jobs.rbegin(), jobs.rend());
  return jobs;
}

Status GzipFile(const std::filesystem::path& from, const std::filesystem::path& to) {
  INGEST_ASSIGN_OR_RETURN(std::string content, ReadFile(from));
  const std::filesystem::path temp = to.string() + ".tmp." + std::to_string(::getpid());
  const int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return ErrnoStatus(errno, temp.string());
  gzFile gz = gzdopen(::dup(fd), "wb9");
  bool ok = gz != nullptr;
  for (size_t done = 0; ok && done < content.size();) {
    const auto n = static_cast<unsigned>(std::min<size_t>(content.size() - done, 1u << 20));
    ok = gzwrite(gz, content.data() + done, n) == static_cast<int>(n);
    done += n;
  }
  if (gz != nullptr && gzclose(gz) != Z_OK) ok = false;
  if (ok && ::fsync(fd) != 0) ok = false;
  ::close(fd);
  std::error_code ec;
  if (!ok) {
    std::filesystem::remove(temp, ec);
    return Internal("gzip " + from.string() + ": write failed");
  }
  std::filesystem::rename(temp, to, ec);
  if (ec) return ErrnoStatus(ec.value(), to.string());
  INGEST_RETURN_IF_ERROR(SyncDirectory(to.parent_path()));
  std::filesystem::remove(from, ec);
  return Status::Ok();
}

}  // namespace

Result<uint32_t> CompressStaleLogs(const std::filesystem::path& env_dir, const std::string& current_job,
                                   const RetentionConfig& retention, WallTime now) {
  INGEST_ASSIGN_OR_RETURN(std::vector<std::string> jobs, JobsNewestFirst(env_dir));
  const auto max_age = std::chrono::hours(24) * retention.compress_after_days;
  uint32_t compressed = 0;
  for (const std::string& job : jobs) {
    const std::filesystem::path log = env_dir / job / "run.ndjson";
    std::error_code ec;
    if (job == current_job || now - JobTime(job) <= max_age || !std::filesystem::exists(log, ec)) continue;
    INGEST_RETURN_IF_ERROR(GzipFile(log, env_dir / job / "run.ndjson.gz"));
    ++compressed;
  }
  return compressed;
}

Result<std::vector<std::filesystem::path>> StaleJobs(const std::filesystem::path& env_dir,
                                                     const std::string& current_job, const RetentionConfig& retention,
                                                     WallTime now) {
  INGEST_ASSIGN_OR_RETURN(std::vector<std::string> jobs, JobsNewestFirst(env_dir));
  uint32_t kept_completed = 0;
  std::vector<std::filesystem::path> stale;
  const auto max_age = std::chrono::hours(24) * retention.delete_after_days;
  for (const std::string& job : jobs) {
    if (job == current_job) continue;
    // One of the last completed jobs is kept whatever its age.
    if (kept_completed < retention.keep_last_jobs) {
      Result<std::string> status = ReadManifestStatus(env_dir / job / kManifestFileName);
      if (status.ok() && *status == kJobCompleted) {
        ++kept_completed;
        continue;
      }
    }
    if (now - JobTime(job) <= max_age) continue;
    stale.push_back(env_dir / job);
  }
  return stale;
}

Result<uint32_t> DeleteJobs(const std::vector<std::filesystem::path>& jobs, const RetentionConfig& retention) {
  uint32_t deleted = 0;
  for (const std::filesystem::path& job : jobs) {
    std::error_code ec;
    std::filesystem::remove_all(job, ec);
    if (ec) return ErrnoStatus(ec.value(), "retention: deleting " + job.string());
    spdlog::info("retention: deleted job {} (older than {} days)", job.filename().string(),
                 retention.delete_after_days);
    ++deleted;
  }
  return deleted;
}

Result<uint32_t> RemoveStaleJobs(const std::filesystem::path& env_dir, const std::string& current_job,
                                 const RetentionConfig& retention, WallTime now) {
  INGEST_ASSIGN_OR_RETURN(std::vector<std::filesystem::path> stale, StaleJobs(env_dir, current_job, retention, now));
  return DeleteJobs(stale, retention);
}

}  // namespace ingest
