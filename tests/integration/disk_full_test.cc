// A job directory and state store on a disk that fills up mid-run: a tmpfs
// of the test's own making (root only; skipped with the reason elsewhere).
// The run fails naming the file it could not write, what it had recorded
// stays intact (verify passes), and once there is room again a resume ends
// with the artifacts of a clean run.

#include <sys/mount.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "tests/integration/job_fixture.h"

namespace ingest {
namespace {

using ::testing::HasSubstr;
using testing::RunOutcome;

// A tmpfs mounted at `dir` for the life of this object.
class Tmpfs {
 public:
  explicit Tmpfs(std::filesystem::path dir) : dir_(std::move(dir)) { std::filesystem::create_directories(dir_); }
  ~Tmpfs() {
    if (mounted_ && ::umount2(dir_.c_str(), MNT_DETACH) != 0) {
      std::fprintf(stderr, "umount %s: %s\n", dir_.c_str(), std::strerror(errno));
    }
  }
  Tmpfs(const Tmpfs&) = delete;
  Tmpfs& operator=(const Tmpfs&) = delete;

  // "" when mounted, else why not.
  std::string Mount(const std::string& size) {
    const std::string options = "size=" + size + ",mode=0755";
    if (::mount("tmpfs", dir_.c_str(), "tmpfs", mounted_ ? MS_REMOUNT : 0, options.c_str()) != 0) {
      return std::strerror(errno);
    }
    mounted_ = true;
    return "";
  }

 private:
  std::filesystem::path dir_;
  bool mounted_ = false;
};

using DiskFullTest = testing::JobTest;

TEST_F(DiskFullTest, ARunThatFillsTheDiskFailsNamingTheFileAndResumesOnceThereIsRoom) {
  if (::geteuid() != 0) GTEST_SKIP() << "mounting a tmpfs needs root";
  AddSiteReports(80, 60);  // the job's files (about 11x) fill 2 MB mid-run
  RunOutcome clean = Run({"--full-refresh"}, 1);
  ASSERT_EQ(clean.exit_code, 0) << clean.stderr_text;
  const std::map<std::string, std::string> expected = Artifacts(Summary(clean).job_dir());

  Tmpfs disk(dir_.path() / "disk");
  if (std::string why = disk.Mount("2m"); !why.empty()) GTEST_SKIP() << "cannot mount a tmpfs here: " << why;
  WriteConfigOnDisk("disk");
  RunOutcome full = Run({}, 1);
  ASSERT_EQ(full.exit_code, 1) << full.stderr_text;
  const RunSummary failed = Summary(full);
  EXPECT_EQ(failed.status(), "failed");
  ASSERT_FALSE(failed.job_dir().empty());
  // The error names the file that could not be written, inside the job.
  ASSERT_FALSE(failed.errors().first().empty());
  EXPECT_THAT(failed.errors().first(0), HasSubstr("No space left on device"));
  EXPECT_THAT(failed.errors().first(0), HasSubstr(failed.job_dir()));
  // What the job had recorded before the disk filled is intact.
  RunOutcome intact = Verify(failed.job_dir());
  EXPECT_EQ(intact.exit_code, 0) << intact.stdout_text << intact.stderr_text;

  ASSERT_EQ(disk.Mount("256m"), "");
  RunOutcome resumed = Run({"--job-dir", failed.job_dir(), "--resume"}, 1);
  ASSERT_EQ(resumed.exit_code, 0) << resumed.stderr_text;
  EXPECT_EQ(Artifacts(failed.job_dir()), expected);
  RunOutcome verified = Verify(failed.job_dir());
  EXPECT_EQ(verified.exit_code, 0) << verified.stdout_text << verified.stderr_text;
}

}  // namespace
}  // namespace ingest
