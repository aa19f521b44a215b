#include "coordinator/run/retention.h"

#include <zlib.h>

#include "common/manifest.h"
#include "tests/testing/testing.h"

namespace ingest {
namespace {

using testing::TempDir;

void MakeJob(const TempDir& dir, const std::string& job, const char* status) {
  std::filesystem::create_directories(dir.path() / job);
  Manifest m = NewManifest(job, "dev");
  m.set_status(status);
  ASSERT_OK(SaveManifest(dir.path() / job / kManifestFileName, m));
}

TEST(RemoveStaleJobsTest, DeletesOldJobsButKeepsTheLastCompletedAndTheCurrent) {
  TempDir dir;
  MakeJob(dir, "job_2026-01-01T02-00-00", kJobCompleted);  // old, kept: 2nd newest completed
  MakeJob(dir, "job_2026-01-02T02-00-00", kJobFailed);     // old, deleted
  MakeJob(dir, "job_2026-01-03T02-00-00", kJobCompleted);  // old, kept: newest completed
  MakeJob(dir, "job_2025-12-01T02-00-00", kJobCompleted);  // old, deleted: beyond keep_last_jobs
  MakeJob(dir, "job_2026-11-20T02-00-00", kJobPartial);    // recent, kept
  MakeJob(dir, "job_2020-01-01T00-00-00", kJobRunning);    // the current job, never deleted
  std::filesystem::create_directories(dir.path() / "not-a-job");
  RetentionConfig retention{.compress_after_days = 7, .delete_after_days = 30, .keep_last_jobs = 2};
  WallTime now = std::chrono::system_clock::from_time_t(1795320000);  // 2026-11-22
  Result<uint32_t> deleted = RemoveStaleJobs(dir.path(), "job_2020-01-01T00-00-00", retention, now);
  ASSERT_OK(deleted);
  EXPECT_EQ(*deleted, 2u);
  EXPECT_FALSE(std::filesystem::exists(dir.path() / "job_2026-01-02T02-00-00"));
  EXPECT_FALSE(std::filesystem::exists(dir.path() / "job_2025-12-01T02-00-00"));
  for (const char* kept : {"job_2026-01-01T02-00-00", "job_2026-01-03T02-00-00", "job_2026-11-20T02-00-00",
                           "job_2020-01-01T00-00-00", "not-a-job"}) {
    EXPECT_TRUE(std::filesystem::exists(dir.path() / kept)) << kept;
  }
}

// Reads a .gz file back with zlib.
std::string Gunzip(const std::filesystem::path& path) {
  gzFile gz = gzopen(path.c_str(), "rb");
  std::string out;
  char buffer[4096];
  int n;
  while (gz != nullptr && (n = gzread(gz, buffer, sizeof buffer)) > 0) out.append(buffer, static_cast<size_t>(n));
  if (gz != nullptr) gzclose(gz);
  return out;
}

TEST(CompressStaleLogsTest, GzipsRunLogsOfJobsOlderThanCompressAfterDaysExceptTheCurrentJob) {
  TempDir dir;
  const std::string log = "{\"ts\":\"2026-11-01T02:00:00Z\",\"message\":\"pass A started\"}\n";
  for (const char* job : {"job_2026-11-01T02-00-00", "job_2026-11-20T02-00-00", "job_2026-10-01T02-00-00"}) {
    dir.Write(std::string(job) + "/run.ndjson", log + job + "\n");
  }
  RetentionConfig retention{.compress_after_days = 7, .delete_after_days = 30, .keep_last_jobs = 2};
  WallTime now = std::chrono::system_clock::from_time_t(1795320000);  // 2026-11-22
  Result<uint32_t> compressed = CompressStaleLogs(dir.path(), "job_2026-10-01T02-00-00", retention, now);
  ASSERT_OK(compressed);
  EXPECT_EQ(*compressed, 1u);
  const auto old_job = dir.path() / "job_2026-11-01T02-00-00";
  EXPECT_FALSE(std::filesystem::exists(old_job / "run.ndjson"));
  EXPECT_EQ(Gunzip(old_job / "run.ndjson.gz"), log + "job_2026-11-01T02-00-00\n");
  EXPECT_TRUE(std::filesystem::exists(dir.path() / "job_2026-11-20T02-00-00/run.ndjson")) << "recent";
  EXPECT_TRUE(std::filesystem::exists(dir.path() / "job_2026-10-01T02-00-00/run.ndjson")) << "current";
  // Nothing left to do the second time.
  EXPECT_EQ(*CompressStaleLogs(dir.path(), "job_2026-10-01T02-00-00", retention, now), 0u);
}

}  // namespace
}  // namespace ingest
