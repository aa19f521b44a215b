#pragma once

// A job directory, a config and the real coordinator and worker binaries,
// started over loopback ZeroMQ for each run. Every process is owned by a
// Subprocess, which kills it if a test fails midway.

#include <signal.h>

#include <fstream>
#include <map>
#include <memory>
#include <sstream>

#include "common/manifest.h"
#include "common/pass.h"
#include "common/proto_json.h"
#include "tests/testing/testing.h"

namespace ingest::testing {

using namespace std::chrono_literals;

constexpr auto kRunTimeout = 120s;

struct RunOutcome {
  int exit_code = -1;
  std::string stdout_text;
  std::string stderr_text;
};

class JobTest : public ::testing::Test {
 protected:
  // Starts from a copy of examples/corpus; tests add or replace files.
  void SetUp() override {
    corpus_ = dir_.path() / "corpus";
    std::filesystem::copy(std::filesystem::path(INGEST_SOURCE_DIR) / "examples/corpus", corpus_,
                          std::filesystem::copy_options::recursive);
  }

  // The fleet must hold `min_workers` before pass A starts.
  void WriteConfig(int min_workers, int wait_s) {
    std::ofstream(dir_.path() / "ingest.yaml") << "env: itest\n"
                                                  "artifact_root: ./artifacts\n"
                                                  "fleet:\n"
                                                  "  bind: tcp://127.0.0.1:*\n"
                                                  "  heartbeat_ms: 200\n"
                                                  "  liveness: "
                                               << testing::FleetLiveness()
                                               << "\n"
                                                  "  min_workers: "
                                               << min_workers << "\n  wait_for_workers_s: " << wait_s
                                               << "\nretry: { attempts: 2, backoff_initial_ms: 50 }\n"
                                                  "sources:\n"
                                                  "  - name: corpus\n"
                                                  "    kind: files\n"
                                                  "    root: ./corpus\n"
                                                  "    exclude: [\"**/drafts/**\"]\n"
                                                  "passes:\n"
                                                  "  C: { chunk_chars: "
                                               << chunk_chars_ << ", overlap_chars: 60 }\n"
                                               << extra_config_;
  }

  // Appended to every config WriteConfig writes.
  std::string extra_config_;
  // Runs are --manual (every source checked) unless a test turns it off to
  // see check_frequency at work.
  bool manual_ = true;

  int chunk_chars_ = 400;
  // Extra environment of the coordinator ("NAME=value").
  std::vector<std::string> coordinator_env_;
  // Extra flags for every worker started by Run().
  std::vector<std::string> worker_flags_;

  std::string Bin(const char* name) const { return (testing::BinDir() / name).string(); }

  // Runs the coordinator with `args` and `workers` separately started workers.
  RunOutcome Run(std::vector<std::string> args, int workers = 2) {
    ++runs_;
    if (!keep_config_) WriteConfig(std::max(workers, 1), 20);
    std::string tag = std::to_string(runs_);
    std::vector<std::string> argv = {
        Bin("ingest-coordinator"), "run", "--config", (dir_.path() / "ingest.yaml").string(), "--bind",
        "tcp://127.0.0.1:*"};
    argv.insert(argv.end(), args.begin(), args.end());
    if (manual_) argv.push_back("--manual");
    auto out = dir_.path() / ("coordinator" + tag + ".out");
    auto err = dir_.path() / ("coordinator" + tag + ".err");
    Subprocess coordinator(argv, out, err, coordinator_env_);
    std::vector<std::unique_ptr<Subprocess>> fleet;
    if (workers > 0) {
      // A run with nothing to execute ends without listening.
      std::string endpoint = testing::WaitForLine(err, "fleet: listening on ", testing::Scaled(20s),
                                                  [&coordinator] { return coordinator.running(); });
      EXPECT_TRUE(!endpoint.empty() || !coordinator.running()) << ReadAll(err);
      for (int i = 0; i < workers && !endpoint.empty(); ++i) {
        std::string id = "w" + tag + "-" + std::to_string(i);
        fleet.push_back(std::make_unique<Subprocess>(WorkerArgv(endpoint, id), dir_.path() / (id + ".out"),
                                                     dir_.path() / (id + ".err")));
      }
    }
    RunOutcome outcome;
    outcome.exit_code = coordinator.Wait(Scaled(kRunTimeout));
    outcome.stdout_text = coordinator.Stdout();
    outcome.stderr_text = coordinator.Stderr();
    // Signalled once running (a process signalled before it installs its
    // handlers dies of the signal), all at once: each may hold its exit up
    // to its 5 s linger for frames the gone coordinator will not read.
    for (int i = 0; i < static_cast<int>(fleet.size()); ++i) {
      const std::string id = "w" + tag + "-" + std::to_string(i);
      EXPECT_FALSE(testing::WaitForLine(dir_.path() / (id + ".err"), "connecting to", Scaled(10s)).empty());
    }
    for (auto& w : fleet) w->Signal(SIGTERM);
    for (auto& w : fleet) EXPECT_EQ(w->Wait(testing::Scaled(10s)), 0) << "worker should drain and exit 0 on SIGTERM";
    return outcome;
  }

  std::vector<std::string> WorkerArgv(const std::string& endpoint, const std::string& id) const {
    std::vector<std::string> argv = {Bin("ingest-worker"), "--connect", endpoint, "--slots", "2", "--id", id,
                                     "--heartbeat-ms",     "200"};
    argv.insert(argv.end(), worker_flags_.begin(), worker_flags_.end());
    return argv;
  }

  RunSummary Summary(const RunOutcome& outcome) {
    RunSummary summary;
    EXPECT_OK(FromJson(LastLine(outcome.stdout_text), &summary)) << outcome.stdout_text;
    return summary;
  }

  // `count` Markdown site reports of `sentences` sentences each, with a
  // heading every six: text enough that a job's files are many times the
  // corpus.
  void AddSiteReports(int count, int sentences) {
    for (int d = 0; d < count; ++d) {
      std::string text = "# Site report " + std::to_string(d) + "\n\n";
      for (int p = 0; p < sentences; ++p) {
        text += "The Control Unit of site " + std::to_string(d) + " logged reading " + std::to_string(p) +
                " before the Night Shift checked the pumps. ";
        if (p % 6 == 5) text += "\n\n## Part " + std::to_string(p) + "\n\n";
      }
      std::ofstream(corpus_ / ("site-" + std::to_string(d) + ".md")) << text;
    }
  }

  // The usual config (one worker), with the job directories, the state store
  // and the failure reports under `disk` in the test's directory.
  void WriteConfigOnDisk(const std::string& disk) {
    WriteConfig(1, 20);
    keep_config_ = true;
    std::string config = ReadAll(dir_.path() / "ingest.yaml");
    const std::string root = "artifact_root: ./artifacts\n";
    config.replace(config.find(root), root.size(),
                   "artifact_root: ./" + disk + "/artifacts\nstate_db: ./" + disk + "/state/ingest.db\nreport_dir: ./" +
                       disk + "/reports\n");
    dir_.Write("ingest.yaml", config);
  }

  // `ingest-coordinator verify --job-dir JOB`: its exit code and what it printed.
  RunOutcome Verify(const std::filesystem::path& job) {
    const std::string tag = "verify" + std::to_string(++verifies_);
    Subprocess verify({Bin("ingest-coordinator"), "verify", "--job-dir", job.string()}, dir_.path() / (tag + ".out"),
                      dir_.path() / (tag + ".err"));
    RunOutcome outcome;
    outcome.exit_code = verify.Wait(Scaled(60s));
    outcome.stdout_text = verify.Stdout();
    outcome.stderr_text = verify.Stderr();
    return outcome;
  }

  // The env starts over: no job directories, no state store.
  void ForgetEnv() {
    std::filesystem::remove_all(dir_.path() / "artifacts");
    std::filesystem::remove_all(dir_.path() / "state");
  }

  std::map<std::string, std::string> Artifacts(const std::filesystem::path& job) {
    std::map<std::string, std::string> files;
    for (Pass p : kAllPasses) files[ArtifactFileName(p)] = ReadAll(job / ArtifactFileName(p));
    return files;
  }

  TempDir dir_;
  std::filesystem::path corpus_;
  int runs_ = 0;
  int verifies_ = 0;
  bool keep_config_ = false;  // set by tests that write their own config
};

}  // namespace ingest::testing
