// The fleet under stress, with real processes on loopback: workers killed or
// drained mid-pass, a peer speaking another protocol version, garbage frames
// and floods of them, a worker answering for a task that was reassigned
// meanwhile, a zombie worker.

#include <atomic>
#include <random>
#include <regex>
#include <thread>
#include <zmq.hpp>

#include "common/fleet_protocol.h"
#include "coordinator/state/run_lock.h"
#include "coordinator/state/state_store.h"
#include "tests/integration/job_fixture.h"

namespace ingest {
namespace {

using ::testing::HasSubstr;
using testing::ReadAll;
using testing::RunOutcome;
using testing::Subprocess;
using namespace std::chrono_literals;

class FleetTest : public testing::JobTest {
 protected:
  void SetUp() override {
    corpus_ = dir_.path() / "corpus";
    std::filesystem::create_directories(corpus_);
  }

  void WriteCorpus(int documents) {
    for (int d = 0; d < documents; ++d) {
      std::string text = "# Document " + std::to_string(d) + "\n\n";
      for (int s = 0; s < 6; ++s) {
        text += "## Part " + std::to_string(s) + "\n\n";
        for (int p = 0; p < 6; ++p) {
          text += "The Control Unit of site " + std::to_string(d) + " logs reading " + std::to_string(s * 10 + p) +
                  ". Operators of the Night Shift check it before dawn.\n";
        }
        text += "\n";
      }
      std::ofstream(corpus_ / ("doc" + std::to_string(d) + ".md")) << text;
    }
  }

  // Starts the coordinator without workers and returns its fleet endpoint.
  std::unique_ptr<Subprocess> StartCoordinator(const std::string& tag, std::string* endpoint,
                                               std::vector<std::string> extra = {},
                                               const std::string& bind = "tcp://127.0.0.1:*") {
    std::vector<std::string> argv = {
        Bin("ingest-coordinator"), "run", "--config", (dir_.path() / "ingest.yaml").string(), "--bind", bind};
    argv.insert(argv.end(), extra.begin(), extra.end());
    auto coordinator = std::make_unique<Subprocess>(argv, dir_.path() / (tag + ".out"), dir_.path() / (tag + ".err"));
    *endpoint = testing::WaitForLine(dir_.path() / (tag + ".err"), "fleet: listening on ", testing::Scaled(20s));
    return coordinator;
  }

  std::unique_ptr<Subprocess> StartWorker(const std::string& endpoint, const std::string& id,
                                          std::vector<std::string> extra = {}) {
    std::vector<std::string> argv = {Bin("ingest-worker"), "--connect", endpoint, "--id", id, "--heartbeat-ms", "200"};
    argv.insert(argv.end(), extra.begin(), extra.end());
    return std::make_unique<Subprocess>(argv, dir_.path() / (id + ".out"), dir_.path() / (id + ".err"));
  }

  // SIGTERM once the worker runs its loop (its handlers are installed); a
  // drained worker exits 0.
  void StopWorker(Subprocess& worker, const std::string& id) {
    testing::WaitForLine(dir_.path() / (id + ".err"), "connecting to", testing::Scaled(10s));
    worker.Signal(SIGTERM);
    EXPECT_EQ(worker.Wait(testing::Scaled(10s)), 0) << id << ": " << ReadAll(dir_.path() / (id + ".err"));
  }

  std::string Err(const std::string& tag) { return ReadAll(dir_.path() / (tag + ".err")); }

  std::string last_probe_;  // stderr of the last `ingest-worker probe`

  RunSummary SummaryOf(Subprocess& coordinator) {
    RunSummary summary;
    EXPECT_OK(FromJson(testing::LastLine(coordinator.Stdout()), &summary)) << coordinator.Stdout();
    return summary;
  }
};

TEST_F(FleetTest, WorkerKilledMidPassIsReplacedAndArtifactsEqualACleanRun) {
  WriteCorpus(200);
  RunOutcome clean = Run({}, 2);
  ASSERT_EQ(clean.exit_code, 0) << clean.stderr_text;
  std::map<std::string, std::string> expected = Artifacts(Summary(clean).job_dir());

  std::string endpoint;
  auto coordinator = StartCoordinator("chaos", &endpoint, {"--full-refresh"});
  ASSERT_FALSE(endpoint.empty()) << Err("chaos");
  auto victim = StartWorker(endpoint, "victim", {"--slots", "1"});
  auto survivor = StartWorker(endpoint, "survivor", {"--slots", "1"});
  ASSERT_FALSE(testing::WaitForLine(dir_.path() / "chaos.err", "pass C started", testing::Scaled(60s)).empty())
      << Err("chaos");
  victim->Signal(SIGKILL);
  EXPECT_EQ(victim->Wait(testing::Scaled(10s)), 128 + SIGKILL);
  auto fresh = StartWorker(endpoint, "fresh", {"--slots", "1"});
  ASSERT_EQ(coordinator->Wait(testing::Scaled(120s)), 0) << Err("chaos");
  EXPECT_THAT(Err("chaos"), HasSubstr("worker victim is dead"));
  RunSummary summary = SummaryOf(*coordinator);
  EXPECT_EQ(Artifacts(summary.job_dir()), expected);
  StopWorker(*survivor, "survivor");
  StopWorker(*fresh, "fresh");
}

// Waits until a journal of `pass` under the env's jobs holds some results;
// returns its job dir, or "" when none did in time.
std::filesystem::path WaitForJournal(const std::filesystem::path& env_dir, const std::string& pass,
                                     std::uintmax_t min_bytes, const std::filesystem::path& other_than) {
  const auto deadline = std::chrono::steady_clock::now() + testing::Scaled(60s);
  while (std::chrono::steady_clock::now() < deadline) {
    std::error_code ec;
    for (const auto& job : std::filesystem::directory_iterator(env_dir, ec)) {
      if (job.path() == other_than) continue;
      auto journal = job.path() / "journal" / ("pass" + pass + ".journal");
      if (std::filesystem::file_size(journal, ec) >= min_bytes && !ec) return job.path();
    }
    std::this_thread::sleep_for(5ms);
  }
  return {};
}

TEST_F(FleetTest, CoordinatorKilledMidPassResumesReusingCommittedTasksAndWorkersRejoin) {
  WriteCorpus(200);
  RunOutcome clean = Run({}, 2);
  ASSERT_EQ(clean.exit_code, 0) << clean.stderr_text;
  const std::filesystem::path clean_job = Summary(clean).job_dir();
  std::map<std::string, std::string> expected = Artifacts(clean_job);

  // The resumed coordinator binds the same port, as a restarted pod would.
  const std::string bind = "tcp://127.0.0.1:" + std::to_string(testing::FreeLoopbackPort());
  std::string endpoint;
  auto killed = StartCoordinator("killed", &endpoint, {"--full-refresh"}, bind);
  ASSERT_FALSE(endpoint.empty()) << Err("killed");
  auto first = StartWorker(endpoint, "first", {"--slots", "1"});
  auto second = StartWorker(endpoint, "second", {"--slots", "1"});
  std::filesystem::path job = WaitForJournal(clean_job.parent_path(), "C", 8 << 10, clean_job);
  ASSERT_FALSE(job.empty()) << Err("killed");
  killed->Signal(SIGKILL);
  ASSERT_EQ(killed->Wait(testing::Scaled(10s)), 128 + SIGKILL);
  Result<Manifest> interrupted = LoadManifest(job / kManifestFileName);
  ASSERT_OK(interrupted);
  EXPECT_EQ(PassEntry(*interrupted, Pass::PASS_C).status(), kPassRunning);
  // Recorded by the save that marked pass C RUNNING, before its first task.
  for (Pass upstream : {Pass::PASS_A, Pass::PASS_B}) {
    EXPECT_EQ(PassEntry(*interrupted, upstream).status(), kPassSuccess) << PassLetter(upstream);
    EXPECT_EQ(PassEntry(*interrupted, upstream).artifacts_size(), 1) << PassLetter(upstream);
  }
  // What a kill inside a write leaves: a torn journal entry and an artifact temp file.
  std::ofstream(job / "journal" / "passC.journal", std::ios::app | std::ios::binary) << std::string("\x40\x00\x00", 3);
  std::ofstream(job / "passC_chunks.json.tmp.99999") << "[\n{\"source_id\": \"doc_";

  // The same two workers, never restarted, rejoin the new coordinator.
  auto resumed =
      StartCoordinator("resumed", &endpoint, {"--resume", "--full-refresh", "--job-dir", job.string()}, bind);
  ASSERT_FALSE(endpoint.empty()) << Err("resumed");
  ASSERT_EQ(resumed->Wait(testing::Scaled(120s)), 0) << Err("resumed");
  RunSummary summary = SummaryOf(*resumed);
  EXPECT_GT(summary.tasks().reused(), 0u);
  EXPECT_LT(summary.tasks().reused(), summary.tasks().total());
  EXPECT_THAT(Err("resumed"), HasSubstr("reused from the journal of an interrupted run"));
  EXPECT_THAT(Err("resumed"), HasSubstr("discarded a damaged or half-written tail of"));
  EXPECT_THAT(Err("resumed"), HasSubstr("passC_chunks.json.tmp.99999, left half-written by an interrupted run"));
  EXPECT_FALSE(std::filesystem::exists(job / "passC_chunks.json.tmp.99999"));
  EXPECT_THAT(Err("resumed"), HasSubstr("worker first joined"));
  EXPECT_THAT(Err("resumed"), HasSubstr("worker second joined"));
  // Asked at their first frame, not found again after three silent heartbeats.
  EXPECT_THAT(Err("first"), HasSubstr("the coordinator does not know this worker; announcing it again"));
  EXPECT_THAT(Err("second"), HasSubstr("the coordinator does not know this worker; announcing it again"));
  EXPECT_EQ(Artifacts(job), expected);
  StopWorker(*first, "first");
  StopWorker(*second, "second");
}

TEST_F(FleetTest, SigtermCancelsTheRunWhichResumesToTheArtifactsOfACleanRun) {
  WriteCorpus(200);
  RunOutcome clean = Run({}, 2);
  ASSERT_EQ(clean.exit_code, 0) << clean.stderr_text;
  const std::filesystem::path clean_job = Summary(clean).job_dir();
  const std::map<std::string, std::string> expected = Artifacts(clean_job);

  const std::string bind = "tcp://127.0.0.1:" + std::to_string(testing::FreeLoopbackPort());
  std::string endpoint;
  auto cancelled = StartCoordinator("cancelled", &endpoint, {"--full-refresh"}, bind);
  ASSERT_FALSE(endpoint.empty()) << Err("cancelled");
  auto first = StartWorker(endpoint, "first", {"--slots", "1"});
  auto second = StartWorker(endpoint, "second", {"--slots", "1"});
  const std::filesystem::path job = WaitForJournal(clean_job.parent_path(), "C", 8 << 10, clean_job);
  ASSERT_FALSE(job.empty()) << Err("cancelled");
  cancelled->Signal(SIGTERM);
  ASSERT_EQ(cancelled->Wait(testing::Scaled(60s)), 128 + SIGTERM) << Err("cancelled");
  const RunSummary summary = SummaryOf(*cancelled);
  EXPECT_EQ(summary.status(), kJobCancelled);
  EXPECT_EQ(summary.exit_code(), 128 + SIGTERM);
  ASSERT_GT(summary.errors().first_size(), 0);
  EXPECT_THAT(summary.errors().first(0), HasSubstr("cancelled (SIGTERM)"));
  EXPECT_THAT(Err("cancelled"), HasSubstr("cancelling: "));
  Result<Manifest> manifest = LoadManifest(job / kManifestFileName);
  ASSERT_OK(manifest);
  EXPECT_EQ(manifest->status(), kJobCancelled);
  EXPECT_EQ(PassEntry(*manifest, Pass::PASS_C).status(), kPassCancelled);
  EXPECT_EQ(PassEntry(*manifest, Pass::PASS_B).status(), kPassSuccess);
  {
    Result<StateStore> store = StateStore::Open(dir_.path() / "state" / "ingest.db");
    ASSERT_OK(store);
    Result<StoredRun> run = store->Run(RunId{summary.run_id()});
    ASSERT_OK(run);
    EXPECT_EQ(run->status, kJobCancelled);
    EXPECT_EQ(run->cancel_reason, "SIGTERM");
    Result<std::optional<LockHolder>> lock = store->Lock("itest", kRunLockStaleAfter);
    ASSERT_OK(lock);
    EXPECT_FALSE(lock->has_value()) << "the lock is released";
  }

  auto resumed =
      StartCoordinator("resumed", &endpoint, {"--resume", "--full-refresh", "--job-dir", job.string()}, bind);
  ASSERT_FALSE(endpoint.empty()) << Err("resumed");
  ASSERT_EQ(resumed->Wait(testing::Scaled(120s)), 0) << Err("resumed");
  const RunSummary resumed_summary = SummaryOf(*resumed);
  EXPECT_GT(resumed_summary.tasks().reused(), 0u);
  EXPECT_THAT(Err("resumed"), HasSubstr("reused from the journal of an interrupted run"));
  EXPECT_EQ(Artifacts(job), expected);
  StopWorker(*first, "first");
  StopWorker(*second, "second");
}

TEST_F(FleetTest, SigtermDrainsAWorkerThatFinishesItsRunningTask) {
  // One document big enough that pass A is still reading it when SIGTERM comes.
  std::string big;
  while (big.size() < (96u << 20)) big += "A line of a very large plain text file, with words.\n";
  std::ofstream(corpus_ / "big.txt") << big;
  WriteConfig(1, 60);
  std::string endpoint;
  // Pass A alone: the point is the drain, not 96 MB through every pass.
  auto coordinator = StartCoordinator("drain", &endpoint, {"--passes", "A"});
  ASSERT_FALSE(endpoint.empty()) << Err("drain");
  auto first = StartWorker(endpoint, "first", {"--slots", "1", "--max-document-mb", "200", "--verbose"});
  // Signalled once its task thread has started the task (its debug line),
  // not a fixed time after the pass started (under ThreadSanitizer the task
  // had not reached it 200 ms later), nor once the worker accepted it (the
  // task thread had not taken it yet, so the drain handed it back). Reading
  // 96 MB takes it far longer than the wait's poll.
  ASSERT_FALSE(testing::WaitForLine(dir_.path() / "first.err", "first: started 1", testing::Scaled(30s)).empty())
      << Err("drain") << ReadAll(dir_.path() / "first.err");
  first->Signal(SIGTERM);
  EXPECT_EQ(first->Wait(testing::Scaled(60s)), 0) << ReadAll(dir_.path() / "first.err");
  std::string log = ReadAll(dir_.path() / "first.err");
  EXPECT_THAT(log, HasSubstr("draining (1 running, 0 handed back)"));
  EXPECT_THAT(log, HasSubstr("stopped after 1 tasks"));
  auto second = StartWorker(endpoint, "second", {"--max-document-mb", "200"});
  ASSERT_EQ(coordinator->Wait(testing::Scaled(120s)), 0) << Err("drain");
  RunSummary summary = SummaryOf(*coordinator);
  EXPECT_EQ(summary.tasks().requeued(), 0u);  // the drained task was finished, not redone
  EXPECT_EQ(summary.documents().processed(), 1u);
  StopWorker(*second, "second");
}

TEST_F(FleetTest, AWorkersProbeIsLiveWithoutACoordinatorAndReadyOnlyWhileConnected) {
  WriteConfig(1, 60);
  const std::string endpoint = "tcp://127.0.0.1:" + std::to_string(testing::FreeLoopbackPort());
  const std::string health = (dir_.path() / "worker.health").string();
  int probes = 0;
  auto probe = [&](bool ready) {
    std::vector<std::string> argv = {Bin("ingest-worker"), "probe", "--health-file", health, "--max-age-s", "5"};
    if (ready) argv.push_back("--ready");
    const std::string tag = "probe" + std::to_string(++probes);
    Subprocess p(argv, dir_.path() / (tag + ".out"), dir_.path() / (tag + ".err"));
    const int code = p.Wait(testing::Scaled(10s));
    last_probe_ = p.Stderr();
    return code;
  };
  auto probe_until = [&](bool ready, int wanted) {
    const auto deadline = std::chrono::steady_clock::now() + testing::Scaled(20s);
    while (probe(ready) != wanted && std::chrono::steady_clock::now() < deadline) std::this_thread::sleep_for(100ms);
    return probe(ready);
  };

  EXPECT_EQ(probe(false), 1) << "no worker, no health file";
  EXPECT_THAT(last_probe_, HasSubstr("does not exist"));
  // Between two CronJob runs: nothing listens, the worker keeps retrying
  // and must not be restarted for it.
  auto worker = StartWorker(endpoint, "prober", {"--health-file", health});
  EXPECT_EQ(probe_until(false, 0), 0) << last_probe_;
  EXPECT_EQ(probe(true), 1);
  EXPECT_THAT(last_probe_, HasSubstr("not connected to " + endpoint + " (never heard from it)"));

  Subprocess serve({Bin("ingest-coordinator"), "serve", "--config", (dir_.path() / "ingest.yaml").string(), "--bind",
                    endpoint, "--admin-listen", "127.0.0.1:0"},
                   dir_.path() / "serve.out", dir_.path() / "serve.err");
  EXPECT_EQ(probe_until(true, 0), 0) << last_probe_ << Err("serve");
  serve.Signal(SIGTERM);
  EXPECT_EQ(serve.Wait(testing::Scaled(30s)), 0) << Err("serve");
  EXPECT_EQ(probe_until(true, 1), 1) << "the coordinator is gone";
  EXPECT_THAT(last_probe_, HasSubstr("last heard"));
  EXPECT_EQ(probe(false), 0) << "still live: " << last_probe_;
  StopWorker(*worker, "prober");
}

TEST_F(FleetTest, OldProtocolPeersAndGarbageFramesAreRefusedAndChangeNothing) {
  WriteCorpus(20);
  RunOutcome clean = Run({}, 1);
  ASSERT_EQ(clean.exit_code, 0) << clean.stderr_text;
  std::map<std::string, std::string> expected = Artifacts(Summary(clean).job_dir());

  std::string endpoint;
  auto coordinator = StartCoordinator("hostile", &endpoint, {"--full-refresh"});
  ASSERT_FALSE(endpoint.empty());
  zmq::context_t context;
  zmq::socket_t old_peer(context, zmq::socket_type::dealer);
  old_peer.set(zmq::sockopt::routing_id, "old-peer");
  old_peer.set(zmq::sockopt::linger, 0);
  old_peer.connect(endpoint);
  Envelope ready;
  ready.set_protocol_version(kProtocolVersion + 1);
  ready.mutable_ready()->set_worker_id("old-peer");
  ready.mutable_ready()->set_slots(4);
  std::string frame = ready.SerializeAsString();
  old_peer.send(zmq::buffer(frame), zmq::send_flags::none);
  old_peer.send(zmq::str_buffer("\xff\xfe not a protobuf"), zmq::send_flags::none);
  old_peer.set(zmq::sockopt::rcvtimeo, 10000);
  zmq::message_t answer;
  ASSERT_TRUE(old_peer.recv(answer));
  Envelope reject;
  ASSERT_TRUE(reject.ParseFromString(answer.to_string()));
  EXPECT_TRUE(reject.has_reject());
  EXPECT_THAT(reject.reject().reason(), HasSubstr("protocol version"));

  auto worker = StartWorker(endpoint, "real");
  ASSERT_EQ(coordinator->Wait(testing::Scaled(120s)), 0) << Err("hostile");
  std::string log = Err("hostile");
  EXPECT_THAT(log, HasSubstr("rejected peer 'old-peer'"));
  EXPECT_THAT(log, HasSubstr("dropped a frame from peer 'old-peer'"));
  EXPECT_THAT(log, HasSubstr("fleet: dropped 2 frames"));
  EXPECT_EQ(Artifacts(SummaryOf(*coordinator).job_dir()), expected);
  StopWorker(*worker, "real");
}

TEST_F(FleetTest, WorkersWithoutAnAuthorizedCurveKeyGetNoTask) {
  WriteCorpus(20);
  std::filesystem::create_directories(dir_.path() / "keys");
  for (const char* name : {"coordinator", "trusted", "stranger"}) {
    Subprocess keygen({Bin("ingest-coordinator"), "keygen", (dir_.path() / "keys" / name).string()},
                      dir_.path() / "keygen.out", dir_.path() / "keygen.err");
    ASSERT_EQ(keygen.Wait(testing::Scaled(10s)), 0) << ReadAll(dir_.path() / "keygen.err");
  }
  std::filesystem::copy_file(dir_.path() / "keys/trusted.pub", dir_.path() / "keys/authorized");
  WriteConfig(1, 30);
  std::string config = ReadAll(dir_.path() / "ingest.yaml");
  config.replace(config.find("fleet:\n"), 7,
                 "fleet:\n  curve: { secret_key_file: keys/coordinator.key, authorized_keys_file: keys/authorized }\n");
  std::ofstream(dir_.path() / "ingest.yaml", std::ios::trunc) << config;

  std::string endpoint;
  auto coordinator = StartCoordinator("curve", &endpoint);
  ASSERT_FALSE(endpoint.empty()) << Err("curve");
  const std::string server_key = (dir_.path() / "keys/coordinator.pub").string();
  auto stranger = StartWorker(
      endpoint, "stranger",
      {"--curve-server-key", server_key, "--curve-secret-key", (dir_.path() / "keys/stranger.key").string()});
  auto plain = StartWorker(endpoint, "plain");
  ASSERT_FALSE(
      testing::WaitForLine(dir_.path() / "stranger.err", "refused this worker's CURVE key", testing::Scaled(20s))
          .empty())
      << ReadAll(dir_.path() / "stranger.err");
  auto trusted = StartWorker(
      endpoint, "trusted",
      {"--curve-server-key", server_key, "--curve-secret-key", (dir_.path() / "keys/trusted.key").string()});
  ASSERT_EQ(coordinator->Wait(testing::Scaled(120s)), 0) << Err("curve");
  EXPECT_EQ(SummaryOf(*coordinator).documents().processed(), 20u);
  std::string log = Err("curve");
  EXPECT_THAT(log, HasSubstr("CURVE authentication on"));
  EXPECT_THAT(log, HasSubstr("is not in fleet.curve.authorized_keys_file"));
  EXPECT_THAT(log, ::testing::Not(HasSubstr("worker stranger joined")));
  EXPECT_THAT(log, ::testing::Not(HasSubstr("worker plain joined")));
  StopWorker(*stranger, "stranger");
  StopWorker(*plain, "plain");
  StopWorker(*trusted, "trusted");
  EXPECT_THAT(ReadAll(dir_.path() / "stranger.err"), HasSubstr("stopped after 0 tasks"));
  EXPECT_THAT(ReadAll(dir_.path() / "plain.err"), HasSubstr("stopped after 0 tasks"));
  EXPECT_THAT(ReadAll(dir_.path() / "trusted.err"), HasSubstr("stopped after 120 tasks"));
}

TEST_F(FleetTest, ResultOfAReassignedAttemptIsRefused) {
  WriteCorpus(4);
  RunOutcome clean = Run({}, 1);
  ASSERT_EQ(clean.exit_code, 0) << clean.stderr_text;
  std::map<std::string, std::string> expected = Artifacts(Summary(clean).job_dir());

  // A slow peer takes a task, holds it past task_timeout_s, then answers
  // with bogus records after the task was given to a real worker.
  std::string config = ReadAll(dir_.path() / "ingest.yaml");
  config.replace(config.find("fleet:\n"), 7, "fleet:\n  task_timeout_s: 1\n");
  std::ofstream(dir_.path() / "ingest.yaml", std::ios::trunc) << config;
  keep_config_ = true;

  std::string endpoint;
  auto coordinator = StartCoordinator("stale", &endpoint, {"--full-refresh"});
  ASSERT_FALSE(endpoint.empty());
  zmq::context_t context;
  zmq::socket_t slow(context, zmq::socket_type::dealer);
  slow.set(zmq::sockopt::routing_id, "slow-peer");
  slow.set(zmq::sockopt::linger, 0);
  slow.set(zmq::sockopt::rcvtimeo, 20000);
  slow.connect(endpoint);
  Envelope ready;
  ready.mutable_ready()->set_worker_id("slow-peer");
  ready.mutable_ready()->set_slots(1);
  std::string frame = EncodeEnvelope(ready);
  slow.send(zmq::buffer(frame), zmq::send_flags::none);
  Task task;
  for (int i = 0; i < 50 && task.task_id().empty(); ++i) {
    zmq::message_t message;
    ASSERT_TRUE(slow.recv(message));
    Envelope envelope;
    ASSERT_TRUE(envelope.ParseFromString(message.to_string()));
    if (envelope.has_tasks() && envelope.tasks().tasks_size() > 0) task = envelope.tasks().tasks(0);
  }
  ASSERT_FALSE(task.task_id().empty());
  auto worker = StartWorker(endpoint, "real");
  // Past the timeout the coordinator requeues the task to the real worker.
  ASSERT_FALSE(testing::WaitForLine(dir_.path() / "stale.err", "exceeded task_timeout_s", testing::Scaled(30s)).empty())
      << Err("stale");
  Envelope late;
  TaskResult* result = late.mutable_result();
  result->set_task_id(task.task_id());
  result->set_attempt(task.attempt());
  TocRecord* bogus = result->mutable_records()->add_toc();
  bogus->set_source_id(task.document().source_id());
  bogus->set_path("bogus-from-a-stale-attempt");
  frame = EncodeEnvelope(late);
  slow.send(zmq::buffer(frame), zmq::send_flags::none);

  ASSERT_EQ(coordinator->Wait(testing::Scaled(120s)), 0) << Err("stale");
  std::map<std::string, std::string> artifacts = Artifacts(SummaryOf(*coordinator).job_dir());
  EXPECT_THAT(artifacts["passA_toc.json"], ::testing::Not(HasSubstr("bogus-from-a-stale-attempt")));
  EXPECT_EQ(artifacts, expected);
  StopWorker(*worker, "real");
}

TEST_F(FleetTest, WorkersDrainedBetweenTasksLoseNothingAndAreNotDeclaredDead) {
  // Many small tasks on 1-slot workers: SIGTERM mostly lands while a worker
  // has nothing queued, when its DRAIN once went out without a body. Enough
  // of them that the pass outlasts the signals by far: pass A of 1,500
  // documents came to end within the 100 ms this test used to wait.
  constexpr uint32_t kDocuments = 4000;
  WriteCorpus(kDocuments);
  WriteConfig(4, 60);  // pass A starts with every worker in
  std::string endpoint;
  auto coordinator = StartCoordinator("drains", &endpoint, {"--passes", "A"});
  ASSERT_FALSE(endpoint.empty()) << Err("drains");
  auto steady = StartWorker(endpoint, "steady");
  std::vector<std::unique_ptr<Subprocess>> drained;
  drained.reserve(3);
  for (int i = 0; i < 3; ++i) drained.push_back(StartWorker(endpoint, "drained" + std::to_string(i), {"--slots", "1"}));
  ASSERT_FALSE(testing::WaitForLine(dir_.path() / "drains.err", "pass A started", testing::Scaled(30s)).empty())
      << Err("drains");
  for (int i = 0; i < 3; ++i) {
    const std::string id = "drained" + std::to_string(i);
    ASSERT_FALSE(
        testing::WaitForLine(dir_.path() / "drains.err", "worker " + id + " joined", testing::Scaled(10s)).empty());
  }
  // All three at once, early in the pass.
  std::this_thread::sleep_for(10ms);
  for (auto& worker : drained) worker->Signal(SIGTERM);
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(drained[i]->Wait(testing::Scaled(20s)), 0)
        << ReadAll(dir_.path() / ("drained" + std::to_string(i) + ".err"));
  }
  ASSERT_EQ(coordinator->Wait(testing::Scaled(120s)), 0) << Err("drains");
  const std::string log = Err("drains");
  for (int i = 0; i < 3; ++i) {
    const std::string id = "drained" + std::to_string(i);
    EXPECT_THAT(log, HasSubstr("worker " + id + " is draining")) << "the run ended first";
    // A drained worker that spoke again after it was let go was asked to
    // announce itself and joined a second time.
    const std::string joined = "worker " + id + " joined";
    EXPECT_EQ(log.find(joined), log.rfind(joined)) << id << " joined twice";
  }
  EXPECT_THAT(log, ::testing::Not(HasSubstr("envelope without a body")));
  EXPECT_THAT(log, ::testing::Not(HasSubstr("is dead")));
  RunSummary summary = SummaryOf(*coordinator);
  EXPECT_EQ(summary.documents().processed(), kDocuments);
  EXPECT_EQ(summary.tasks().retried(), 0u);
  StopWorker(*steady, "steady");
}

TEST_F(FleetTest, AZombieWorkerStoppedPastItsLeaseHasEveryLateResultRefused) {
  WriteCorpus(200);
  RunOutcome clean = Run({"--full-refresh"}, 1);
  ASSERT_EQ(clean.exit_code, 0) << clean.stderr_text;
  const std::map<std::string, std::string> expected = Artifacts(Summary(clean).job_dir());

  // Pass A starts once both are in; the zombie is stopped as soon as it
  // joined, so its first batch reaches a process that cannot answer.
  WriteConfig(2, 60);
  std::string endpoint;
  auto coordinator = StartCoordinator("lease", &endpoint, {"--full-refresh"});
  ASSERT_FALSE(endpoint.empty()) << Err("lease");
  auto zombie = StartWorker(endpoint, "zombie", {"--slots", "1"});
  ASSERT_FALSE(testing::WaitForLine(dir_.path() / "lease.err", "worker zombie joined", testing::Scaled(20s)).empty())
      << Err("lease");
  zombie->Signal(SIGSTOP);
  auto steady = StartWorker(endpoint, "steady");
  // Silent past fleet.liveness: declared dead, its tasks go to steady.
  const std::string dead =
      testing::WaitForLine(dir_.path() / "lease.err", "worker zombie is dead", testing::Scaled(60s));
  zombie->Signal(SIGCONT);
  ASSERT_FALSE(dead.empty()) << Err("lease");
  EXPECT_THAT(dead, ::testing::Not(HasSubstr("requeueing 0 tasks")));

  ASSERT_EQ(coordinator->Wait(testing::Scaled(120s)), 0) << Err("lease");
  const std::string log = Err("lease");
  // Its late results came from a peer the coordinator had let go, or for
  // attempts that were no longer its: refused either way.
  EXPECT_TRUE(log.find("dropped a frame from unknown peer 'zombie'") != std::string::npos ||
              log.find("from zombie") != std::string::npos)
      << log;
  RunSummary summary = SummaryOf(*coordinator);
  EXPECT_GE(summary.tasks().requeued(), 1u);
  // One committed result per task: a late one taken as well would count twice.
  EXPECT_EQ(summary.tasks().executed(), summary.tasks().total());
  EXPECT_EQ(summary.documents().failed(), 0u);
  EXPECT_EQ(Artifacts(summary.job_dir()), expected);
  StopWorker(*steady, "steady");
  StopWorker(*zombie, "zombie");
}

TEST_F(FleetTest, AWorkerRestartedUnderItsIdBeforeItIsMissedHasItsTasksRequeuedAtOnce) {
  WriteCorpus(200);
  RunOutcome clean = Run({"--full-refresh"}, 1);
  ASSERT_EQ(clean.exit_code, 0) << clean.stderr_text;
  const std::map<std::string, std::string> expected = Artifacts(Summary(clean).job_dir());

  // The coordinator's heartbeats once a minute: it neither misses the old
  // process nor finds it gone (a heartbeat sent to a closed connection
  // would) before the new one says READY under the same id (a container
  // restarted in place). Only the new process's session tells that the
  // tasks in flight are lost; without it the pass waits for their leases
  // (task_timeout_s, 600 s). With 2 s heartbeats a slow (sanitizer) build
  // sometimes restarted the worker after one of them had found it gone.
  WriteConfig(1, 60);
  keep_config_ = true;
  std::string config = testing::ReadAll(dir_.path() / "ingest.yaml");
  config = std::regex_replace(config, std::regex("heartbeat_ms: [0-9]+"), "heartbeat_ms: 60000");
  config = std::regex_replace(config, std::regex("liveness: [0-9]+"), "liveness: 10");
  dir_.Write("ingest.yaml", config);
  std::string endpoint;
  auto coordinator = StartCoordinator("restart", &endpoint, {"--full-refresh"});
  ASSERT_FALSE(endpoint.empty()) << Err("restart");
  auto first = StartWorker(endpoint, "phoenix", {"--slots", "1"});
  ASSERT_FALSE(testing::WaitForLine(dir_.path() / "restart.err", "pass C started", testing::Scaled(60s)).empty())
      << Err("restart");
  first->Signal(SIGKILL);
  first->Wait(testing::Scaled(10s));
  auto second = StartWorker(endpoint, "phoenix", {"--slots", "1"});

  ASSERT_EQ(coordinator->Wait(testing::Scaled(60s)), 0) << Err("restart");
  const std::string log = Err("restart");
  // A task sent to the old process after it died (it had just answered
  // one) also finds it gone; rare, and as right: either way at once.
  EXPECT_TRUE(log.find("worker phoenix restarted (a new process under its id); requeueing") != std::string::npos ||
              log.find("worker phoenix is dead (disconnected)") != std::string::npos)
      << log;
  RunSummary summary = SummaryOf(*coordinator);
  EXPECT_GE(summary.tasks().requeued(), 1u);
  EXPECT_EQ(summary.tasks().executed(), summary.tasks().total());
  EXPECT_EQ(Artifacts(summary.job_dir()), expected);
  StopWorker(*second, "phoenix");
}

// The coordinator's peak RSS as its final log line gives it, in MB.
int64_t PeakRssMb(const std::string& log) {
  std::smatch match;
  return std::regex_search(log, match, std::regex("peak RSS ([0-9]+) MB")) ? std::stoll(match[1]) : -1;
}

// What the flood sends: 100,000 frames from one peer that never says READY
// nor reads a single answer, in five kinds (garbage, another protocol
// version, results and drains for tasks nobody dispatched, two-part
// messages; every 1,000th a megabyte of garbage), then a few thousand
// strangers, each connecting under its own identity to send a heartbeat.
struct Flood {
  static constexpr int kFrames = 100000;
  static constexpr int kStrangers = 2000;
  std::atomic<int> sent{0};

  void Run(const std::string& endpoint) {
    zmq::context_t context;
    zmq::socket_t flooder(context, zmq::socket_type::dealer);
    flooder.set(zmq::sockopt::routing_id, "flooder");
    flooder.set(zmq::sockopt::linger, 0);
    flooder.set(zmq::sockopt::sndtimeo, 60000);  // bounded, should the coordinator stop reading
    flooder.connect(endpoint);
    std::mt19937 random(7);
    Envelope other_version;
    other_version.set_protocol_version(kProtocolVersion + 1);
    other_version.mutable_ready()->set_worker_id("flooder");
    const std::string old_frame = other_version.SerializeAsString();
    Envelope results;
    TaskResult* result = results.mutable_results()->add_results();
    result->set_task_id("A-doc_00000000000000ff-0");
    result->set_attempt(1);
    const std::string results_frame = EncodeEnvelope(results);
    Envelope drain;
    drain.mutable_drain()->add_unstarted("C-doc_00000000000000ff-0");
    const std::string drain_frame = EncodeEnvelope(drain);
    for (int i = 0; i < kFrames; ++i) {
      // A first byte of 0xFF is wire type 7, which no protobuf parser takes.
      std::string garbage(i % 1000 == 999 ? (1 << 20) : 1 + random() % 300, '\xff');
      for (size_t b = 1; b < garbage.size(); b += 7) garbage[b] = static_cast<char>(random());
      bool ok = true;
      switch (i % 5) {
        case 0:
          ok = flooder.send(zmq::buffer(garbage), zmq::send_flags::none).has_value();
          break;
        case 1:
          ok = flooder.send(zmq::buffer(old_frame), zmq::send_flags::none).has_value();
          break;
        case 2:
          ok = flooder.send(zmq::buffer(results_frame), zmq::send_flags::none).has_value();
          break;
        case 3:
          ok = flooder.send(zmq::buffer(drain_frame), zmq::send_flags::sndmore).has_value() &&
               flooder.send(zmq::buffer(garbage), zmq::send_flags::none).has_value();
          break;
        default:
          ok = flooder.send(zmq::buffer(drain_frame), zmq::send_flags::none).has_value();
      }
      if (!ok) return;  // timed out: the coordinator stopped reading
      ++sent;
    }
    Envelope beat;
    beat.mutable_heartbeat();
    const std::string beat_frame = EncodeEnvelope(beat);
    // In rounds of 100, each in a context of its own: closing a context
    // waits for its sockets' frames to leave, which bounds the open sockets.
    for (int s = 0; s < kStrangers;) {
      zmq::context_t round;
      for (int end = s + 100; s < end; ++s) {
        zmq::socket_t stranger(round, zmq::socket_type::dealer);
        stranger.set(zmq::sockopt::routing_id, "stranger-" + std::to_string(s));
        stranger.set(zmq::sockopt::linger, 1000);
        stranger.connect(endpoint);
        if (!stranger.send(zmq::buffer(beat_frame), zmq::send_flags::none)) return;
        ++sent;
      }
    }
  }
};

TEST_F(FleetTest, AFloodOfBogusFramesAndPeersLeavesTheRunItsArtifactsAndItsMemoryAlone) {
  WriteCorpus(400);
  RunOutcome clean = Run({"--full-refresh"}, 1);
  ASSERT_EQ(clean.exit_code, 0) << clean.stderr_text;
  const std::map<std::string, std::string> expected = Artifacts(Summary(clean).job_dir());
  const int64_t clean_rss = PeakRssMb(clean.stderr_text);

  WriteConfig(1, 60);
  std::string endpoint;
  auto coordinator = StartCoordinator("flood", &endpoint, {"--full-refresh"});
  ASSERT_FALSE(endpoint.empty()) << Err("flood");
  Flood flood;
  std::thread flooding([&] { flood.Run(endpoint); });
  // The worker comes once the flood is well under way, so they overlap.
  const auto deadline = std::chrono::steady_clock::now() + testing::Scaled(30s);
  while (flood.sent < 10000 && std::chrono::steady_clock::now() < deadline) std::this_thread::sleep_for(10ms);
  auto worker = StartWorker(endpoint, "steady");
  const int exit_code = coordinator->Wait(testing::Scaled(180s));
  flooding.join();
  ASSERT_EQ(exit_code, 0) << Err("flood");
  EXPECT_EQ(flood.sent, Flood::kFrames + Flood::kStrangers) << "the coordinator stopped reading";

  const std::string log = Err("flood");
  EXPECT_EQ(Artifacts(SummaryOf(*coordinator).job_dir()), expected);
  // Counted by reason, and logged a few times each, not once per frame.
  std::smatch dropped;
  ASSERT_TRUE(std::regex_search(log, dropped, std::regex("fleet: dropped ([0-9]+) frames \\(([^)]*)\\)"))) << log;
  for (const char* reason : {"unparsable", "protocol_version", "unknown_peer", "multipart"}) {
    EXPECT_THAT(dropped[2].str(), HasSubstr(reason));
  }
  EXPECT_LT(std::count(log.begin(), log.end(), '\n'), 2000) << "the log was flooded too";
  const int64_t flood_rss = PeakRssMb(log);
  ASSERT_GT(clean_rss, 0);
#if !defined(__SANITIZE_ADDRESS__) && !defined(__SANITIZE_THREAD__)
  // Sanitizer allocators keep freed memory aside (ASan's quarantine holds
  // 256 MB), so there the RSS measures them; the plain build asserts it.
  EXPECT_LT(flood_rss - clean_rss, 50) << "peak RSS " << flood_rss << " MB, " << clean_rss << " MB without the flood";
#endif
  std::printf("flood: %s frames dropped (%s) during the run; peak RSS %lld MB, %lld MB without the flood\n",
              dropped[1].str().c_str(), dropped[2].str().c_str(), static_cast<long long>(flood_rss),
              static_cast<long long>(clean_rss));
  StopWorker(*worker, "steady");
}

TEST_F(FleetTest, AWorkerAnswersATaskItCannotParseAtOnce) {
  // The test is the coordinator: a ROUTER that sends a TASK whose path is
  // not UTF-8, which proto3 refuses to parse.
  zmq::context_t context;
  zmq::socket_t router(context, zmq::socket_type::router);
  router.set(zmq::sockopt::linger, 0);
  router.set(zmq::sockopt::rcvtimeo, static_cast<int>(testing::Scaled(20s).count() * 1000));
  router.bind("tcp://127.0.0.1:*");
  const std::string endpoint = router.get(zmq::sockopt::last_endpoint);
  auto worker = StartWorker(endpoint, "reader");
  auto receive = [&router](Envelope* envelope) {
    zmq::message_t identity;
    zmq::message_t body;
    if (!router.recv(identity) || !router.recv(body)) return std::string();
    return envelope->ParseFromString(body.to_string()) ? identity.to_string() : std::string();
  };
  Envelope first;
  std::string peer = receive(&first);
  ASSERT_TRUE(first.has_ready()) << ReadAll(dir_.path() / "reader.err");
  Envelope task;
  task.set_protocol_version(kProtocolVersion);
  task.mutable_task()->set_task_id("A-doc_00000000000000aa");
  task.mutable_task()->set_attempt(1);
  task.mutable_task()->set_pass(PASS_A);
  task.mutable_task()->mutable_document()->set_path("caf\xE9.md");
  std::string frame;
  task.SerializePartialToString(&frame);
  router.send(zmq::buffer(peer), zmq::send_flags::sndmore);
  router.send(zmq::buffer(frame), zmq::send_flags::none);
  Envelope answer;
  while (!answer.has_results()) {
    // Before the fix no answer ever came: the frame was dropped in silence.
    ASSERT_FALSE(receive(&answer).empty()) << "no answer: " << ReadAll(dir_.path() / "reader.err");
  }
  ASSERT_EQ(answer.results().results_size(), 1);
  const TaskResult& refusal = answer.results().results(0);
  EXPECT_EQ(refusal.task_id(), "A-doc_00000000000000aa");
  EXPECT_EQ(refusal.error().kind(), "unreadable_task");
  EXPECT_EQ(refusal.error().error_class(), ERROR_CLASS_PERMANENT);
  StopWorker(*worker, "reader");
}

}  // namespace
}  // namespace ingest
