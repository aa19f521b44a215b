// The coordinator killed (SIGKILL, as by a power cut) at named points of a
// run (common/crash_point.h) and at random moments; each time a --resume
// must end with the artifacts of a clean run, byte for byte, in a job that
// `verify` accepts.

#include <random>
#include <thread>

#include "tests/integration/job_fixture.h"

namespace ingest {
namespace {

using testing::RunOutcome;
using testing::Subprocess;
using namespace std::chrono_literals;

constexpr int kKilled = 128 + SIGKILL;

class CrashTest : public testing::JobTest {
 protected:
  void SetUp() override {
    testing::JobTest::SetUp();
    for (int d = 0; d < 12; ++d) {
      std::string text = "# Shift log " + std::to_string(d) + "\n\n";
      for (int p = 0; p < 24; ++p) {
        text += "The Control Unit of site " + std::to_string(d) + " logged reading " + std::to_string(p) + ". ";
        if (p % 8 == 7) text += "\n\n## Part " + std::to_string(p) + "\n\n";
      }
      std::ofstream(corpus_ / ("shift-" + std::to_string(d) + ".md")) << text;
    }
  }

  // A clean run's artifacts; the env starts over afterwards.
  std::map<std::string, std::string> CleanArtifacts() {
    RunOutcome clean = Run({"--full-refresh"}, 1);
    EXPECT_EQ(clean.exit_code, 0) << clean.stderr_text;
    std::map<std::string, std::string> artifacts = Artifacts(Summary(clean).job_dir());
    ForgetEnv();
    return artifacts;
  }

  // Resumes the newest job of the env (runs again when the kill came before
  // there was one) and checks it against `expected`.
  void ResumeAndCompare(const std::map<std::string, std::string>& expected, const std::string& what) {
    coordinator_env_.clear();
    std::error_code ec;
    const bool has_job = !std::filesystem::is_empty(dir_.path() / "artifacts" / "ingest" / "itest", ec) && !ec;
    // Local workers, started only when there is work: a job that had
    // completed has none.
    std::vector<std::string> args = {"--local-workers", "1"};
    if (has_job) args.push_back("--resume");
    RunOutcome resumed = Run(args, 0);
    ASSERT_EQ(resumed.exit_code, 0) << what << "\n" << resumed.stderr_text;
    const std::string job = Summary(resumed).job_dir();
    EXPECT_EQ(Artifacts(job), expected) << what;
    RunOutcome verified = Verify(job);
    EXPECT_EQ(verified.exit_code, 0) << what << "\n" << verified.stdout_text << verified.stderr_text;
  }
};

class CrashPointTest : public CrashTest, public ::testing::WithParamInterface<const char*> {};

TEST_P(CrashPointTest, AResumeEndsWithTheArtifactsOfACleanRun) {
  const auto expected = CleanArtifacts();
  coordinator_env_ = {std::string("INGEST_CRASH_POINT=") + GetParam()};
  // Local workers: some points come before the fleet is up.
  RunOutcome crashed = Run({"--local-workers", "1"}, 0);
  ASSERT_EQ(crashed.exit_code, kKilled) << "the point was not reached: " << GetParam() << "\n" << crashed.stderr_text;
  ResumeAndCompare(expected, GetParam());
}

// Where they fall in a run over this corpus (about 130 tasks): journal
// appends early and late, the streamed artifact writes, both sides of the
// renames of artifacts and of the manifest, the state store's transaction,
// the notifications at the very end.
INSTANTIATE_TEST_SUITE_P(Points, CrashPointTest,
                         ::testing::Values("journal_append@1", "journal_append@40", "journal_append@100",
                                           "write:passC_chunks.json", "before_rename:passA_toc.json",
                                           "after_rename:passB_splits.json", "before_rename:passD_enriched.json",
                                           "after_rename:passE_graph.json", "before_rename:passF_cleanup.json",
                                           "write:manifest.json@3", "before_rename:manifest.json@2",
                                           "after_rename:manifest.json@5", "state_record", "notification"),
                         [](const ::testing::TestParamInfo<const char*>& info) {
                           std::string name;
                           for (const char* c = info.param; *c != '\0'; ++c) {
                             name += std::isalnum(static_cast<unsigned char>(*c)) ? *c : '_';
                           }
                           return name;
                         });

TEST_F(CrashTest, KilledAtRandomMomentsEveryResumeEndsWithTheArtifactsOfACleanRun) {
  const auto started = std::chrono::steady_clock::now();
  const auto expected = CleanArtifacts();
  const auto clean_run = std::chrono::steady_clock::now() - started;
  // Twenty seeds; five where sanitizers make every run several times longer.
  const int seeds = testing::Scaled(1000ms) > 1000ms ? 5 : 20;
  int killed = 0;
  // Kills aim within this: the clean run's length at first, then the delay
  // of the last kill that came after its run had ended. The clean run is the
  // test's first, with cold caches: under AddressSanitizer three of five
  // later runs once ended before their kill.
  auto run_length = clean_run;
  for (int seed = 0; seed < seeds; ++seed) {
    std::mt19937 random(seed);
    const auto delay = std::chrono::duration_cast<std::chrono::milliseconds>(
        run_length * (0.1 + 0.85 * std::uniform_real_distribution<double>(0, 1)(random)));
    const std::string tag = "seed" + std::to_string(seed);
    const auto run_started = std::chrono::steady_clock::now();
    Subprocess coordinator({Bin("ingest-coordinator"), "run", "--config", (dir_.path() / "ingest.yaml").string(),
                            "--bind", "tcp://127.0.0.1:*", "--manual"},
                           dir_.path() / (tag + ".out"), dir_.path() / (tag + ".err"));
    const std::string endpoint =
        testing::WaitForLine(dir_.path() / (tag + ".err"), "fleet: listening on ", testing::Scaled(20s));
    ASSERT_FALSE(endpoint.empty()) << coordinator.Stderr();
    Subprocess worker(WorkerArgv(endpoint, tag + "-worker"), dir_.path() / (tag + "-worker.out"),
                      dir_.path() / (tag + "-worker.err"));
    std::this_thread::sleep_until(run_started + delay);
    coordinator.Signal(SIGKILL);
    const int code = coordinator.Wait(testing::Scaled(120s));
    // SIGTERM once its handlers are in (a worker signalled earlier dies of it).
    testing::WaitForLine(dir_.path() / (tag + "-worker.err"), "connecting to", testing::Scaled(10s));
    worker.Signal(SIGTERM);
    EXPECT_EQ(worker.Wait(testing::Scaled(20s)), 0) << worker.Stderr();
    if (code == kKilled) {
      ++killed;
      ResumeAndCompare(expected, tag + ", killed " + std::to_string(delay.count()) + " ms into the run");
    } else {
      ASSERT_EQ(code, 0) << coordinator.Stderr();  // it ended before the kill
      run_length = delay;
    }
    ForgetEnv();
  }
  EXPECT_GT(killed, seeds / 2) << "most kills should land inside the run";
}

}  // namespace
}  // namespace ingest
