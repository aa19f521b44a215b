#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "common/config.h"
#include "common/ids.h"
#include "common/status.h"

namespace ingest {

// The job directories of an env that retention no longer keeps: older than
// `delete_after_days` (by job id time), except the newest `keep_last_jobs`
// completed jobs and `current_job`, which is never touched. A directory that
// is not a job (name not job_YYYY-...) is left alone. Newest first.
Result<std::vector<std::filesystem::path>> StaleJobs(const std::filesystem::path& env_dir,
                                                     const std::string& current_job, const RetentionConfig& retention,
                                                     WallTime now);

// Deletes the job directories `jobs` (from StaleJobs); returns how many.
// Errors name the directory.
Result<uint32_t> DeleteJobs(const std::vector<std::filesystem::path>& jobs, const RetentionConfig& retention);

// StaleJobs, then DeleteJobs.
Result<uint32_t> RemoveStaleJobs(const std::filesystem::path& env_dir, const std::string& current_job,
                                 const RetentionConfig& retention, WallTime now);

// Gzips {job}/run.ndjson to run.ndjson.gz (temp file, fsync, rename, then
// the plain log is removed) for every job of the env older than
// `compress_after_days` by job id time, except `current_job`. Returns how
// many logs were compressed.
Result<uint32_t> CompressStaleLogs(const std::filesystem::path& env_dir, const std::string& current_job,
                                   const RetentionConfig& retention, WallTime now);

}  // namespace ingest
