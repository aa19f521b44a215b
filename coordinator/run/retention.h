#pragma once

#include <cstdint>
#include <filesystem>
#include <string>

#include "common/config.h"
#include "common/ids.h"
#include "common/status.h"

namespace ingest {

// Deletes job directories of an env that retention no longer keeps: older
// than `delete_after_days` (by job id time), except the newest
// `keep_last_jobs` completed jobs and `current_job`, which is never touched.
// Returns how many were deleted. A directory that is not a job
// (name not job_YYYY-...) is left alone.
Result<uint32_t> RemoveStaleJobs(const std::filesystem::path& env_dir, const std::string& current_job,
                                 const RetentionConfig& retention, WallTime now);

// Gzips {job}/run.ndjson to run.ndjson.gz (temp file, fsync, rename, then
// the plain log is removed) for every job of the env older than
// `compress_after_days` by job id time, except `current_job`. Returns how
// many logs were compressed.
Result<uint32_t> CompressStaleLogs(const std::filesystem::path& env_dir, const std::string& current_job,
                                   const RetentionConfig& retention, WallTime now);

}  // namespace ingest
