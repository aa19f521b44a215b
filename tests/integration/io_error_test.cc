// A job directory and state store on a disk that answers I/O errors: the
// test's own FUSE pass-through (faulty-fs, tests/testing/faulty_fs.cc) fails
// one operation on one file with EIO, from the start of the run or from the
// middle of a pass on. The run fails with a message that names the file,
// what it had recorded stays intact (verify passes), and once the disk is
// healthy again a resume ends with the artifacts of a clean run. Root and
// FUSE only; skipped with the reason elsewhere.

#include <sys/mount.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <thread>

#include "tests/integration/job_fixture.h"

namespace ingest {
namespace {

using ::testing::HasSubstr;
using testing::RunOutcome;
using testing::Subprocess;
using namespace std::chrono_literals;

bool Mounted(const std::filesystem::path& dir) {
  std::string needle = " ";  // GCC 12's -Wrestrict misfires on " " + string + " fuse"
  needle += dir.string();
  needle += " fuse";
  return testing::ReadAll("/proc/self/mounts").find(needle) != std::string::npos;
}

// `backing` mirrored at `mount` by faulty-fs for the life of this object.
class FaultyDisk {
 public:
  FaultyDisk(std::filesystem::path backing, std::filesystem::path mount, std::filesystem::path logs)
      : backing_(std::move(backing)), mount_(std::move(mount)), logs_(std::move(logs)) {
    std::filesystem::create_directories(backing_);
    std::filesystem::create_directories(mount_);
  }
  ~FaultyDisk() {
    // Detaching the mount ends faulty-fs's session; it exits by itself.
    if (Mounted(mount_) && ::umount2(mount_.c_str(), MNT_DETACH) != 0) {
      std::fprintf(stderr, "umount %s: %s\n", mount_.c_str(), std::strerror(errno));
    }
    if (fs_ && fs_->Wait(testing::Scaled(10s)) == -1) fs_->Signal(SIGKILL);
  }
  FaultyDisk(const FaultyDisk&) = delete;
  FaultyDisk& operator=(const FaultyDisk&) = delete;

  // "" once mounted, else why not.
  std::string Mount() {
#ifndef INGEST_FAULTY_FS
    return "faulty-fs was not built (libfuse3-dev missing)";
#else
    if (::access("/dev/fuse", R_OK | W_OK) != 0) return std::string("/dev/fuse: ") + std::strerror(errno);
    fs_ = std::make_unique<Subprocess>(
        std::vector<std::string>{INGEST_FAULTY_FS, backing_.string(), mount_.string(), rules().string()},
        logs_ / "faulty-fs.out", logs_ / "faulty-fs.err");
    const auto deadline = std::chrono::steady_clock::now() + testing::Scaled(10s);
    while (!Mounted(mount_) && fs_->running() && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(10ms);
    }
    return Mounted(mount_) ? "" : "faulty-fs did not mount: " + fs_->Stderr();
#endif
  }

  // Replaces the rules (faulty-fs reads them again at its next operation);
  // "" heals the disk.
  void Inject(const std::string& rules_text) {
    std::ofstream(rules().string() + ".new") << rules_text;
    std::filesystem::rename(rules().string() + ".new", rules());
  }

  // What faulty-fs logged: every failure it injected.
  std::string Log() const { return testing::ReadAll(logs_ / "faulty-fs.err"); }

 private:
  std::filesystem::path rules() const { return logs_ / "faulty-fs.rules"; }

  std::filesystem::path backing_;
  std::filesystem::path mount_;
  std::filesystem::path logs_;
  std::unique_ptr<Subprocess> fs_;
};

constexpr const char* kEio = "Input/output error";  // strerror(EIO); SQLite says "disk I/O error"

struct IoFault {
  const char* name;
  const char* rule;        // OP TEXT ERRNO, as faulty-fs reads it
  const char* from;        // injected once the coordinator logs this; "" from the start
  const char* file;        // what the error must name
  const char* error;       // and how it says what went wrong
  bool job_dir_in_error;   // the error names a file inside the job directory
  int resume_workers = 1;  // 0 when every pass had ended: the resume has no task
};

// ctest lists a case by its name, not its bytes.
void PrintTo(const IoFault& fault, std::ostream* os) { *os << fault.name; }

class IoErrorTest : public testing::JobTest, public ::testing::WithParamInterface<IoFault> {
 protected:
  // A full refresh with one worker; `fault` goes into `disk` once the
  // coordinator logs `from` (at once when empty).
  RunOutcome RunInjecting(FaultyDisk& disk, const std::string& from, const std::string& rule) {
    if (from.empty()) disk.Inject(rule);
    const std::filesystem::path err = dir_.path() / "faulted.err";
    Subprocess coordinator({Bin("ingest-coordinator"), "run", "--config", (dir_.path() / "ingest.yaml").string(),
                            "--bind", "tcp://127.0.0.1:*", "--manual", "--full-refresh"},
                           dir_.path() / "faulted.out", err);
    const std::string endpoint = testing::WaitForLine(err, "fleet: listening on ", testing::Scaled(20s));
    std::unique_ptr<Subprocess> worker;
    if (!endpoint.empty()) {
      worker = std::make_unique<Subprocess>(WorkerArgv(endpoint, "w"), dir_.path() / "w.out", dir_.path() / "w.err");
    }
    if (!from.empty()) {
      EXPECT_FALSE(testing::WaitForLine(err, from, testing::Scaled(60s)).empty()) << coordinator.Stderr();
      disk.Inject(rule);
    }
    RunOutcome outcome;
    outcome.exit_code = coordinator.Wait(testing::Scaled(testing::kRunTimeout));
    outcome.stdout_text = coordinator.Stdout();
    outcome.stderr_text = coordinator.Stderr();
    if (worker) {
      worker->Signal(SIGTERM);
      worker->Wait(testing::Scaled(20s));
    }
    return outcome;
  }
};

TEST_P(IoErrorTest, TheRunFailsNamingTheFileKeepsWhatItRecordedAndResumesOnAHealthyDisk) {
  const IoFault& fault = GetParam();
  if (::geteuid() != 0) GTEST_SKIP() << "mounting a FUSE filesystem needs root";
  AddSiteReports(60, 30);
  RunOutcome clean = Run({"--full-refresh"}, 1);
  ASSERT_EQ(clean.exit_code, 0) << clean.stderr_text;
  const std::map<std::string, std::string> expected = Artifacts(Summary(clean).job_dir());

  FaultyDisk disk(dir_.path() / "backing", dir_.path() / "disk", dir_.path());
  if (std::string why = disk.Mount(); !why.empty()) GTEST_SKIP() << "cannot mount faulty-fs here: " << why;
  WriteConfigOnDisk("disk");
  RunOutcome faulted = RunInjecting(disk, fault.from, fault.rule);
  ASSERT_THAT(disk.Log(), HasSubstr(": EIO")) << "no failure was injected";
  ASSERT_EQ(faulted.exit_code, 1) << faulted.stdout_text << faulted.stderr_text;
  const RunSummary failed = Summary(faulted);
  EXPECT_EQ(failed.status(), "failed");
  ASSERT_FALSE(failed.job_dir().empty()) << faulted.stdout_text;
  ASSERT_FALSE(failed.errors().first().empty()) << faulted.stdout_text;
  EXPECT_THAT(failed.errors().first(0), HasSubstr(fault.error));
  EXPECT_THAT(failed.errors().first(0), HasSubstr(fault.file));
  if (fault.job_dir_in_error) {
    EXPECT_THAT(failed.errors().first(0), HasSubstr(failed.job_dir()));
  }
  std::printf("%s: %s\n", fault.name, failed.errors().first(0).c_str());

  // What the job recorded before the error is intact, read through the
  // still faulty disk's healthy files.
  disk.Inject("");
  RunOutcome intact = Verify(failed.job_dir());
  EXPECT_EQ(intact.exit_code, 0) << intact.stdout_text << intact.stderr_text;

  RunOutcome resumed = Run({"--job-dir", failed.job_dir(), "--resume"}, fault.resume_workers);
  ASSERT_EQ(resumed.exit_code, 0) << resumed.stderr_text;
  EXPECT_EQ(Artifacts(failed.job_dir()), expected);
  RunOutcome verified = Verify(failed.job_dir());
  EXPECT_EQ(verified.exit_code, 0) << verified.stdout_text << verified.stderr_text;
  // The state store took the resumed run's outcome: the next run finds
  // nothing changed and executes no task.
  RunOutcome next = Run({}, 0);
  ASSERT_EQ(next.exit_code, 0) << next.stderr_text;
  EXPECT_EQ(Summary(next).tasks().executed(), 0u) << next.stdout_text;
}

INSTANTIATE_TEST_SUITE_P(
    Faults, IoErrorTest,
    ::testing::Values(
        IoFault{"ArtifactWrite", "write passC_chunks.json EIO", "", "passC_chunks.json", kEio, true},
        IoFault{"ArtifactFsync", "fsync passD_enriched.json EIO", "", "passD_enriched.json", kEio, true},
        IoFault{"ArtifactRename", "rename passB_splits.json EIO", "", "passB_splits.json", kEio, true},
        IoFault{"JournalWrite", "write passC.journal EIO", "pass C started", "passC.journal", kEio, true},
        // Batches are fsynced on the journal's own thread: the error still fails the run.
        IoFault{"JournalFsync", "fsync passC.journal EIO", "pass C started", "passC.journal", kEio, true},
        IoFault{"ManifestWrite", "write manifest.json EIO", "pass D started", "manifest.json", kEio, true},
        IoFault{"StateStoreWrite", "write ingest.db EIO", "pass E started", "ingest.db", "disk I/O error", false, 0}),
    [](const ::testing::TestParamInfo<IoFault>& info) { return std::string(info.param.name); });

}  // namespace
}  // namespace ingest
