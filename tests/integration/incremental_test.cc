// Incremental runs against the state store, with the real binaries: change
// detection, carrying results forward, dry runs, the run lock, audit events,
// the failure budget and quarantine.

#include <sqlite3.h>

#include <csignal>

#include "common/artifact.h"
#include "coordinator/state/state_store.h"
#include "proto/admin.pb.h"
#include "tests/integration/job_fixture.h"

namespace ingest {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using testing::ReadAll;
using testing::RunOutcome;
using namespace std::chrono_literals;

class IncrementalTest : public testing::JobTest {
 protected:
  std::filesystem::path StateDb() const { return dir_.path() / "state" / "ingest.db"; }

  RunSummary RunOk(std::vector<std::string> args, int expected_exit = 0) {
    RunOutcome outcome = Run(std::move(args), 1);
    EXPECT_EQ(outcome.exit_code, expected_exit) << outcome.stderr_text;
    return Summary(outcome);
  }

  // event_type of every audit event, oldest first, read with plain SQLite.
  std::vector<std::string> AuditEvents() {
    std::vector<std::string> types;
    sqlite3* db = nullptr;
    sqlite3_open_v2(StateDb().c_str(), &db, SQLITE_OPEN_READONLY, nullptr);
    sqlite3_stmt* stmt = nullptr;
    sqlite3_prepare_v2(db, "SELECT event_type, payload FROM audit_events ORDER BY id", -1, &stmt, nullptr);
    while (sqlite3_step(stmt) == SQLITE_ROW) {
      types.emplace_back(reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0)));
      RunSummary payload;
      EXPECT_OK(FromJson(reinterpret_cast<const char*>(sqlite3_column_text(stmt, 1)), &payload));
      EXPECT_FALSE(payload.run_id().empty());
    }
    sqlite3_finalize(stmt);
    sqlite3_close(db);
    return types;
  }

  // Appends `line` to the corpus document at `relative`: a new checksum.
  void ModifyDocument(const std::string& relative, const std::string& line = "A new line that changes the checksum.") {
    std::ofstream(corpus_ / relative, std::ios::app) << "\n" << line << "\n";
  }

  // Every file under the test directory with its size and modification time.
  std::map<std::string, std::pair<uintmax_t, int64_t>> Tree() {
    std::map<std::string, std::pair<uintmax_t, int64_t>> files;
    for (const auto& e : std::filesystem::recursive_directory_iterator(dir_.path())) {
      if (!e.is_regular_file()) continue;
      files[e.path().string()] = {e.file_size(), e.last_write_time().time_since_epoch().count()};
    }
    return files;
  }
};

TEST_F(IncrementalTest, ANoChangeRerunProcessesNothingAndYieldsTheSameArtifacts) {
  RunSummary first = RunOk({});
  EXPECT_EQ(first.documents().new_(), 9u);
  EXPECT_EQ(first.documents().processed(), 9u);
  // Its manifest is saved once, at its end: a kill at a second save of it
  // would end the rerun with SIGKILL's exit code.
  coordinator_env_ = {"INGEST_CRASH_POINT=before_rename:manifest.json@2"};
  RunOutcome rerun = Run({}, 1);
  ASSERT_EQ(rerun.exit_code, 0) << rerun.stderr_text;
  RunSummary second = Summary(rerun);
  // Nothing any pass depends on changed: each is copied whole.
  EXPECT_THAT(rerun.stderr_text, HasSubstr("pass C SUCCESS: inputs unchanged, passC_chunks.json copied from job"));
  EXPECT_NE(second.job_dir(), first.job_dir());
  EXPECT_EQ(second.documents().unchanged(), 9u);
  EXPECT_EQ(second.documents().processed(), 0u);
  EXPECT_EQ(second.documents().new_(), 0u);
  EXPECT_EQ(second.changes_detected(), 0u);
  EXPECT_EQ(second.tasks().executed(), 0u);
  EXPECT_EQ(second.tasks().reused(), second.tasks().total());
  EXPECT_EQ(Artifacts(second.job_dir()), Artifacts(first.job_dir()));
}

TEST_F(IncrementalTest, ACarriedArtifactIsTrustedByItsStampAndOneChangedSinceIsNotCopied) {
  RunSummary first = RunOk({});
  const std::filesystem::path job = first.job_dir();
  Result<Manifest> manifest = LoadManifest(job / kManifestFileName);
  ASSERT_OK(manifest);
  for (Pass pass : kAllPasses) {
    const ArtifactRecord& artifact = PassEntry(*manifest, pass).artifacts(0);
    EXPECT_TRUE(MatchesStamp(job / artifact.path(), artifact)) << artifact.path();
  }
  // Rewritten in place, the same size: only its stamp says it changed.
  // (Its modification time must move on from the one its job recorded.)
  std::this_thread::sleep_for(50ms);
  const std::filesystem::path d = job / PassEntry(*manifest, Pass::PASS_D).artifacts(0).path();
  std::string text = ReadAll(d);
  size_t at = text.size() / 2;
  while (at < text.size() && !std::isalpha(static_cast<unsigned char>(text[at]))) ++at;
  ASSERT_LT(at, text.size());
  {
    std::fstream file(d, std::ios::in | std::ios::out | std::ios::binary);
    file.seekp(static_cast<std::streamoff>(at));
    file.put(text[at] == 'x' ? 'y' : 'x');
  }
  RunOutcome rerun = Run({}, 1);
  ASSERT_EQ(rerun.exit_code, 0) << rerun.stderr_text;
  EXPECT_THAT(rerun.stderr_text, HasSubstr("passD_enriched.json of job " + first.job_id() +
                                           " changed since it was recorded; pass D runs"));
  EXPECT_THAT(rerun.stderr_text, HasSubstr("pass C SUCCESS: inputs unchanged"));
  EXPECT_THAT(rerun.stderr_text, HasSubstr("pass D started"));
  RunSummary second = Summary(rerun);
  // Pass D ran again and wrote what the first job had before the change.
  Result<Manifest> rerun_manifest = LoadManifest(std::filesystem::path(second.job_dir()) / kManifestFileName);
  ASSERT_OK(rerun_manifest);
  EXPECT_EQ(PassEntry(*rerun_manifest, Pass::PASS_D).artifacts(0).sha256(),
            PassEntry(*manifest, Pass::PASS_D).artifacts(0).sha256());
  const ArtifactRecord& carried = PassEntry(*rerun_manifest, Pass::PASS_C).artifacts(0);
  EXPECT_TRUE(MatchesStamp(std::filesystem::path(second.job_dir()) / carried.path(), carried));
}

// A resumed run finds upstream records in the journals on disk, while the
// interrupted one read them as it merged them: the task digests must agree,
// or nothing of the journal would be reused.
TEST_F(IncrementalTest, AResumedRunReusesResultsWhoseInputsItReadsFromTheJournals) {
  RunSummary first = RunOk({});
  const std::filesystem::path manifest_path = std::filesystem::path(first.job_dir()) / kManifestFileName;
  Result<Manifest> manifest = LoadManifest(manifest_path);
  ASSERT_OK(manifest);
  for (const char* pass : {"D", "E", "F"}) (*manifest->mutable_passes())[pass].set_status(kPassRunning);
  manifest->set_status(kJobRunning);
  ASSERT_OK(SaveManifest(manifest_path, *manifest));

  RunOutcome resumed = Run({"--resume", "--job-dir", first.job_dir()}, 1);
  ASSERT_EQ(resumed.exit_code, 0) << resumed.stderr_text;
  EXPECT_THAT(resumed.stderr_text,
              HasSubstr("pass E started: 9 tasks, 9 reused from the journal of an interrupted run"));
  RunSummary second = Summary(resumed);
  EXPECT_EQ(second.tasks().executed(), 0u);
  EXPECT_EQ(Artifacts(second.job_dir()), Artifacts(first.job_dir()));
}

TEST_F(IncrementalTest, WithoutJournalsLaterPassesReadTheirInputsFromTheArtifacts) {
  RunSummary first = RunOk({});
  std::filesystem::remove_all(std::filesystem::path(first.job_dir()) / "journal");
  RunOutcome rerun = Run({"--job-dir", first.job_dir(), "--resume-from", "D"}, 1);
  ASSERT_EQ(rerun.exit_code, 0) << rerun.stderr_text;
  EXPECT_THAT(rerun.stderr_text, HasSubstr("reading pass C's records from its artifact"));
  EXPECT_EQ(Artifacts(Summary(rerun).job_dir()), Artifacts(first.job_dir()));
}

TEST_F(IncrementalTest, ModifiedNewAndDeletedDocumentsAreExactlyWhatRunsAndMatchAFullRefresh) {
  RunOk({"--baseline"});
  ModifyDocument("notes/todo.txt");
  std::ofstream(corpus_ / "notes/added.md") << "# Added\n\nA document that was not there before.\n";
  std::filesystem::remove(corpus_ / "handbook/policy.txt");
  RunSummary incremental = RunOk({});
  EXPECT_EQ(incremental.documents().changed(), 1u);
  EXPECT_EQ(incremental.documents().new_(), 1u);
  EXPECT_EQ(incremental.documents().deleted(), 1u);
  EXPECT_EQ(incremental.documents().processed(), 2u);
  EXPECT_EQ(incremental.documents().unchanged(), 7u);
  EXPECT_EQ(incremental.changes_detected(), 3u);
  EXPECT_GT(incremental.tasks().reused(), 0u);
  RunSummary full = RunOk({"--full-refresh"});
  EXPECT_EQ(full.tasks().reused(), 0u);
  EXPECT_EQ(Artifacts(incremental.job_dir()), Artifacts(full.job_dir()));
  EXPECT_THAT(ReadAll(std::filesystem::path(incremental.job_dir()) / "passA_toc.json"), Not(HasSubstr("policy.txt")));
  Result<StateStore> store = StateStore::Open(StateDb());
  ASSERT_OK(store);
  EXPECT_EQ(*store->Count("change_events", "itest"), 3);  // the baseline compares nothing
}

// Carried results are referenced where an earlier job's journal holds them
// (segments hard-linked beside the journals): along a chain of jobs, after
// the oldest is deleted, and through a crash and a resume.
TEST_F(IncrementalTest, AChainOfRerunsReferencesEarlierJournalsAndEachMatchesAFullRefresh) {
  const RunSummary baseline = RunOk({"--baseline"});
  const auto segments = [](const std::string& job) {
    size_t found = 0;
    for (const auto& e : std::filesystem::directory_iterator(std::filesystem::path(job) / "journal")) {
      found += e.path().extension() == ".segment" ? 1 : 0;
    }
    return found;
  };
  std::vector<std::string> jobs = {baseline.job_dir()};
  for (const char* document : {"notes/todo.txt", "handbook/policy.txt", "notes/todo.txt"}) {
    ModifyDocument(document);
    RunSummary incremental = RunOk({});
    EXPECT_GT(incremental.tasks().reused(), 0u);
    EXPECT_GT(segments(incremental.job_dir()), 0u) << incremental.job_dir();
    jobs.push_back(incremental.job_dir());
  }
  // Nothing changed: every pass is carried whole, its journal linked with
  // the segments beside it.
  RunSummary unchanged = RunOk({});
  EXPECT_EQ(unchanged.tasks().executed(), 0u);
  EXPECT_GT(segments(unchanged.job_dir()), 0u);
  // Retention deletes the jobs the last one references: the links keep them.
  for (const std::string& job : jobs) std::filesystem::remove_all(job);
  ModifyDocument("handbook/policy.txt");
  // Killed while pass B carries its results forward (pass A makes 10 appends).
  coordinator_env_ = {"INGEST_CRASH_POINT=journal_append@12"};
  RunOutcome crashed = Run({}, 1);
  ASSERT_EQ(crashed.exit_code, 128 + SIGKILL) << "the crash point was not reached\n" << crashed.stderr_text;
  coordinator_env_.clear();
  RunSummary resumed = RunOk({"--resume"});
  EXPECT_EQ(Verify(resumed.job_dir()).exit_code, 0);
  RunSummary full = RunOk({"--full-refresh"});
  EXPECT_EQ(Artifacts(resumed.job_dir()), Artifacts(full.job_dir()));
}

TEST_F(IncrementalTest, APreviousJournalThatCannotBeReadIsNotCarriedForwardAndThePassRunsInFull) {
  const RunSummary baseline = RunOk({"--baseline"});
  ModifyDocument("notes/todo.txt");
  // Pass C's journal is opened ahead, while pass B runs: its error must
  // still reach pass C, which then computes every task.
  const std::filesystem::path journal = std::filesystem::path(baseline.job_dir()) / "journal" / "passC.journal";
  std::filesystem::remove(journal);
  std::filesystem::create_directory(journal);
  RunOutcome incremental = Run({}, 1);
  ASSERT_EQ(incremental.exit_code, 0) << incremental.stderr_text;
  EXPECT_THAT(incremental.stderr_text, HasSubstr("not carrying results forward from " + journal.string()));
  const size_t pass_c = incremental.stderr_text.find("pass C started");
  ASSERT_NE(pass_c, std::string::npos) << incremental.stderr_text;
  const std::string line = incremental.stderr_text.substr(pass_c, incremental.stderr_text.find('\n', pass_c) - pass_c);
  EXPECT_THAT(line, Not(HasSubstr("carried forward")));
  EXPECT_THAT(incremental.stderr_text, HasSubstr("pass D started"));
  RunSummary full = RunOk({"--full-refresh"});
  EXPECT_EQ(Artifacts(Summary(incremental).job_dir()), Artifacts(full.job_dir()));
}

TEST_F(IncrementalTest, AScheduledRunSkipsASourceThatIsNotDue) {
  RunOk({});  // --manual: checks every source
  manual_ = false;
  ModifyDocument("notes/todo.txt", "changed after the check");
  RunOutcome scheduled = Run({}, 1);
  ASSERT_EQ(scheduled.exit_code, 0) << scheduled.stderr_text;
  EXPECT_THAT(scheduled.stderr_text, HasSubstr("source corpus is not due (check_frequency daily): 9 documents kept"));
  RunSummary summary = Summary(scheduled);
  EXPECT_EQ(summary.documents().unchanged(), 9u);
  EXPECT_EQ(summary.changes_detected(), 0u);
  Manifest manifest = *LoadManifest(std::filesystem::path(summary.job_dir()) / kManifestFileName);
  EXPECT_EQ(manifest.sources().at("corpus").status(), "not_due");
  // Naming the source checks it now.
  RunSummary named = RunOk({"--source", "corpus"});
  EXPECT_EQ(named.documents().changed(), 1u);
}

TEST_F(IncrementalTest, ADryRunListsTheChangesAndWritesNothing) {
  RunOk({});
  ModifyDocument("notes/todo.txt", "changed");
  keep_config_ = true;
  auto before = Tree();
  RunOutcome dry = Run({"--dry-run"}, 0);
  ASSERT_EQ(dry.exit_code, 0) << dry.stderr_text;
  EXPECT_THAT(dry.stdout_text, HasSubstr("modified  notes/todo.txt"));
  EXPECT_THAT(dry.stdout_text, HasSubstr("1 documents to process"));
  EXPECT_THAT(dry.stdout_text, HasSubstr("8 unchanged"));
  // The same plan for a script: one JSON document.
  RunOutcome json = Run({"--dry-run", "--json"}, 0);
  ASSERT_EQ(json.exit_code, 0) << json.stderr_text;
  ::ingestfleet::admin::v1::Plan plan;
  ASSERT_OK(FromJson(testing::LastLine(json.stdout_text), &plan)) << json.stdout_text;
  EXPECT_EQ(plan.documents_to_process(), 1u);
  EXPECT_EQ(plan.documents_unchanged(), 8u);
  EXPECT_EQ(plan.tasks_per_pass(), 1u);
  ASSERT_EQ(plan.sources_size(), 1);
  EXPECT_EQ(plan.sources(0).state(), "due");
  EXPECT_THAT(plan.sources(0).modified_documents(), ::testing::ElementsAre("notes/todo.txt"));
  EXPECT_EQ(json.stdout_text.find('\n'), json.stdout_text.size() - 1) << "one line: " << json.stdout_text;
  auto after = Tree();
  // The only files that may differ are the test's own coordinator output captures.
  for (auto it = after.begin(); it != after.end();) {
    it = it->first.find("/coordinator") != std::string::npos ? after.erase(it) : std::next(it);
  }
  for (auto it = before.begin(); it != before.end();) {
    it = it->first.find("/coordinator") != std::string::npos ? before.erase(it) : std::next(it);
  }
  EXPECT_EQ(after, before);
}

TEST_F(IncrementalTest, ASecondRunOfTheEnvExits4NamingTheHolder) {
  RunOk({});  // creates the store
  Result<StateStore> holder = StateStore::Open(StateDb());
  ASSERT_OK(holder);
  std::string broken;
  ASSERT_OK(holder->AcquireLock("itest", RunId{"run_holding"}, 120s, &broken));
  RunOutcome refused = Run({}, 0);
  EXPECT_EQ(refused.exit_code, 4);
  EXPECT_THAT(refused.stderr_text, HasSubstr("env 'itest' is locked by run run_holding"));
  // The summary line is there for a log parser too, naming the holder.
  const RunSummary summary = Summary(refused);
  EXPECT_EQ(summary.exit_code(), 4);
  EXPECT_EQ(summary.status(), "failed");
  ASSERT_EQ(summary.errors().first_size(), 1);
  EXPECT_THAT(summary.errors().first(0), HasSubstr("locked by run run_holding"));
  ASSERT_OK(holder->ReleaseLock("itest", RunId{"run_holding"}));
  RunOk({});
}

TEST_F(IncrementalTest, AuditEventsAreWrittenOnSuccessAndOnFailure) {
  RunOk({});
  EXPECT_THAT(AuditEvents(), ::testing::ElementsAre("ingestion_completed"));
  WriteConfig(1, 1);
  keep_config_ = true;
  // A change, so there are tasks to run: a run with none needs no workers.
  ModifyDocument("notes/todo.txt", "changed");
  RunOutcome no_fleet = Run({}, 0);  // nobody to run the tasks: exit 1
  EXPECT_EQ(no_fleet.exit_code, 1);
  EXPECT_THAT(AuditEvents(), ::testing::ElementsAre("ingestion_completed", "ingestion_failed"));
}

TEST_F(IncrementalTest, TheFailureBudgetFailsARunAndRepeatedFailuresAreQuarantined) {
  std::ofstream empty(corpus_ / "notes/empty.txt");  // fails pass A as invalid_document
  extra_config_ = "run: { max_failed_fraction: 0.05, quarantine_after: 2 }\n";
  RunSummary over = RunOk({}, 1);
  EXPECT_EQ(over.status(), "failed");
  EXPECT_THAT(over.errors().first(0), HasSubstr("1 of 10 documents failed, more than run.max_failed_fraction=0.05"));
  extra_config_ = "run: { quarantine_after: 2 }\n";
  RunSummary second = RunOk({}, 3);
  EXPECT_EQ(second.documents().failed(), 1u);
  // Both runs left a consolidated report naming the document and its class.
  std::vector<std::filesystem::path> reports;
  for (const auto& e : std::filesystem::directory_iterator(dir_.path() / "docs/bugs")) reports.push_back(e.path());
  ASSERT_FALSE(reports.empty());
  std::sort(reports.begin(), reports.end());
  const std::string report = ReadAll(reports.back());
  EXPECT_THAT(report, HasSubstr("### Pass A — invalid_document (1)"));
  EXPECT_THAT(report, HasSubstr("`corpus/notes/empty.txt`"));
  EXPECT_THAT(report, HasSubstr("--resume-from A"));
  RunSummary third = RunOk({}, 0);  // failed twice in a row, unchanged: skipped
  EXPECT_EQ(third.documents().quarantined(), 1u);
  ASSERT_EQ(third.quarantined_size(), 1);
  EXPECT_EQ(third.quarantined(0), "corpus/notes/empty.txt");
  std::ofstream(corpus_ / "notes/empty.txt") << "Now it has content.\n";
  RunSummary fixed = RunOk({}, 0);
  EXPECT_EQ(fixed.documents().quarantined(), 0u);
  EXPECT_EQ(fixed.documents().changed(), 1u);
}

TEST_F(IncrementalTest, ServeCatchesUpAMissedRunAndStopsOnSigterm) {
  extra_config_ = "schedule: { cron: \"0 0 1 1 *\", timezone: \"Europe/Paris\" }\n";
  WriteConfig(1, 30);
  {
    // The daemon was down on New Year's night: the last run is older than the last firing.
    Result<StateStore> store = StateStore::Open(StateDb());
    ASSERT_OK(store);
    ASSERT_OK(store->RecordRunStart({.run_id = RunId{"run_20250601_000000_1"},
                                     .env = "itest",
                                     .job_id = "job_old",
                                     .job_dir = "/nonexistent",
                                     .trigger = "schedule",
                                     .flags = "",
                                     .started_at = "2025-06-01T00:00:00.000Z",
                                     .status = "completed"}));
  }
  const auto err = dir_.path() / "serve.err";
  testing::Subprocess serve({Bin("ingest-coordinator"), "serve", "--config", (dir_.path() / "ingest.yaml").string(),
                             "--bind", "tcp://127.0.0.1:*"},
                            dir_.path() / "serve.out", err);
  std::string endpoint = testing::WaitForLine(err, "fleet: listening on ", testing::Scaled(20s));
  ASSERT_FALSE(endpoint.empty()) << ReadAll(err);
  testing::Subprocess worker(WorkerArgv(endpoint, "steady"), dir_.path() / "steady.out", dir_.path() / "steady.err");
  EXPECT_FALSE(testing::WaitForLine(err, "serve: catching up a missed run", testing::Scaled(20s)).empty())
      << ReadAll(err);
  // The slot of the missed firing, midnight in Paris, as `run --scheduled-for` names it.
  EXPECT_EQ(testing::WaitForLine(err, "schedule slot 2025-12-31T23:00:00Z: ", testing::Scaled(20s)), "its first run")
      << ReadAll(err);
  EXPECT_EQ(testing::WaitForLine(err, "serve: scheduled run ended with exit code ", testing::Scaled(60s)), "0")
      << ReadAll(err);
  EXPECT_FALSE(testing::WaitForLine(err, "serve: next run at 2027-01-01 00:00:00 CET", testing::Scaled(20s)).empty())
      << ReadAll(err);
  RunSummary summary;
  ASSERT_OK(FromJson(testing::LastLine(serve.Stdout()), &summary));
  EXPECT_EQ(summary.documents().new_(), 9u);
  {
    Result<StateStore> store = StateStore::Open(StateDb());
    ASSERT_OK(store);
    Result<std::optional<StoredRun>> of_slot = store->LatestRunOfSlot("itest", "2025-12-31T23:00:00Z");
    ASSERT_OK(of_slot);
    ASSERT_TRUE(of_slot->has_value());
    EXPECT_EQ((*of_slot)->run_id.value, summary.run_id());
  }
  serve.Signal(SIGTERM);
  EXPECT_EQ(serve.Wait(testing::Scaled(10s)), 0) << ReadAll(err);
  EXPECT_THAT(ReadAll(err), HasSubstr("serve: stopping on signal"));
  worker.Signal(SIGTERM);
  EXPECT_EQ(worker.Wait(testing::Scaled(10s)), 0);
}

}  // namespace
}  // namespace ingest
