// End-to-end runs of the real ingest-coordinator and ingest-worker binaries
// over loopback ZeroMQ. Every process is owned by a Subprocess, which kills it
// if a test fails midway.

#include <poll.h>
#include <pty.h>
#include <sys/ioctl.h>
#include <sys/wait.h>

#include <algorithm>

#include "common/artifact.h"
#include "common/ids.h"
#include "common/manifest.h"
#include "common/sha256.h"
#include "tests/integration/job_fixture.h"

namespace ingest {
namespace {

using ::testing::HasSubstr;
using testing::LastLine;
using testing::ReadAll;
using testing::RunOutcome;
using testing::Subprocess;
using namespace std::chrono_literals;

class RunTest : public testing::JobTest {};

TEST_F(RunTest, FullRunWithTwoSeparateWorkersCompletesAndRecordsEverything) {
  RunOutcome run = Run({});
  ASSERT_EQ(run.exit_code, 0) << run.stderr_text;
  RunSummary summary = Summary(run);
  EXPECT_EQ(summary.status(), "completed");
  EXPECT_EQ(summary.documents().processed(), 9u);
  EXPECT_GT(summary.chunks(), 7u);
  EXPECT_GT(summary.graph().edges(), 0u);
  EXPECT_EQ(summary.tasks().total(), summary.tasks().executed());

  std::filesystem::path job = summary.job_dir();
  Result<Manifest> manifest = LoadManifest(job / "manifest.json");
  ASSERT_OK(manifest);
  EXPECT_EQ(manifest->status(), "completed");
  for (Pass p : kAllPasses) {
    const PassRecord& record = PassEntry(*manifest, p);
    EXPECT_EQ(record.status(), kPassSuccess) << PassLetter(p);
    ASSERT_EQ(record.artifacts_size(), 1);
    auto path = job / record.artifacts(0).path();
    EXPECT_EQ(*Sha256File(path), record.artifacts(0).sha256()) << path;
    EXPECT_EQ(std::filesystem::file_size(path), record.artifacts(0).bytes());
  }
  EXPECT_EQ(manifest->documents_size(), 9);
  EXPECT_FALSE(std::filesystem::exists(job / ".work"));

  std::istringstream log(ReadAll(job / "run.ndjson"));
  std::string line;
  int lines = 0;
  while (std::getline(log, line)) {
    ++lines;
    // Strict parse (unknown keys fail), then presence of every key in the text:
    // a parsed proto cannot tell a missing field from an empty one.
    LogLine event;
    ASSERT_OK(FromJson(line, &event)) << line;
    for (const char* key : {"ts", "level", "env", "job_id", "run_id", "pass", "status", "message", "error"}) {
      // append(), not operator+: GCC 12 at -O3 misreports "lit" + string as -Wrestrict.
      std::string needle;
      needle.append("\"").append(key).append("\":");
      EXPECT_THAT(line, HasSubstr(needle)) << key << " missing in " << line;
    }
    EXPECT_EQ(event.env(), "itest");
    EXPECT_EQ(event.run_id(), summary.run_id());
    EXPECT_FALSE(event.ts().empty());
  }
  EXPECT_GE(lines, 13);  // start, discovery, start and end of six passes, end
}

TEST_F(RunTest, TwoRunsGiveByteIdenticalArtifacts) {
  RunOutcome first = Run({}, 2);
  ASSERT_EQ(first.exit_code, 0) << first.stderr_text;
  RunOutcome second = Run({}, 1);
  ASSERT_EQ(second.exit_code, 0) << second.stderr_text;
  std::filesystem::path a = Summary(first).job_dir();
  std::filesystem::path b = Summary(second).job_dir();
  ASSERT_NE(a, b);
  EXPECT_EQ(Artifacts(a), Artifacts(b));
}

TEST_F(RunTest, VerifyAcceptsAFinishedJobAndNamesWhatWasChangedInIt) {
  RunOutcome run = Run({}, 1);
  ASSERT_EQ(run.exit_code, 0) << run.stderr_text;
  const std::filesystem::path job = Summary(run).job_dir();
  RunOutcome clean = Verify(job);
  EXPECT_EQ(clean.exit_code, 0) << clean.stdout_text << clean.stderr_text;
  EXPECT_THAT(clean.stdout_text, HasSubstr(": OK (6 artifacts re-hashed, "));

  // A changed byte in an artifact, a document the manifest no longer lists
  // and a checksum pass A did not record: each named.
  const std::filesystem::path chunks = job / "passC_chunks.json";
  std::string text = ReadAll(chunks);
  text[text.find("\"text\":\"") + 8] ^= 0x01;
  std::ofstream(chunks, std::ios::trunc) << text;
  Result<Manifest> manifest = LoadManifest(job / kManifestFileName);
  ASSERT_OK(manifest);
  auto docs = manifest->mutable_documents();
  ASSERT_GE(docs->size(), 2u);
  const std::string dropped = docs->begin()->first;
  docs->erase(docs->begin());
  DocumentRecord& altered = docs->begin()->second;
  altered.set_checksum(std::string(64, 'f'));
  ASSERT_OK(SaveManifest(job / kManifestFileName, *manifest));
  RunOutcome broken = Verify(job);
  EXPECT_EQ(broken.exit_code, 1);
  EXPECT_THAT(broken.stdout_text, HasSubstr("pass C artifact passC_chunks.json: sha256 "));
  EXPECT_THAT(broken.stdout_text, HasSubstr("pass B: 1 records of document " + dropped + " (not in the manifest)"));
  EXPECT_THAT(broken.stdout_text, HasSubstr("the manifest says " + altered.source() + "/" + altered.path()));
  EXPECT_THAT(LastLine(broken.stdout_text), HasSubstr(job.string() + ": "));

  std::filesystem::remove(job / kManifestFileName);
  RunOutcome gone = Verify(job);
  EXPECT_EQ(gone.exit_code, 1);
  EXPECT_THAT(gone.stdout_text, HasSubstr("manifest.json"));
}

TEST_F(RunTest, TheSameTextInTwoDocumentsIsReportedAsDuplicateChunks) {
  const std::string text =
      "# Shared\n\nThis paragraph is copied word for word into two documents of the corpus, so pass F finds "
      "every chunk of one again in the other and reports them as duplicates.\n";
  std::ofstream(corpus_ / "copy-a.md") << text;
  std::ofstream(corpus_ / "copy-b.md") << text;
  RunOutcome run = Run({}, 1);
  ASSERT_EQ(run.exit_code, 0) << run.stderr_text;
  CleanupRecord cleanup;
  ASSERT_OK(ScanArtifact(std::filesystem::path(Summary(run).job_dir()) / "passF_cleanup.json", Pass::PASS_F,
                         [&cleanup](const google::protobuf::Message& m) {
                           cleanup.CopyFrom(m);
                           return Status::Ok();
                         }));
  ASSERT_GE(cleanup.duplicates_size(), 1);
  for (const DuplicateGroup& group : cleanup.duplicates()) {
    EXPECT_EQ(group.chunk_ids_size(), 2) << group.text_hash();
    EXPECT_TRUE(std::is_sorted(group.chunk_ids().begin(), group.chunk_ids().end()));
  }
  EXPECT_TRUE(
      std::is_sorted(cleanup.duplicates().begin(), cleanup.duplicates().end(),
                     [](const DuplicateGroup& a, const DuplicateGroup& b) { return a.text_hash() < b.text_hash(); }));
}

TEST_F(RunTest, CorruptedChunksCloseTheGateOfDUntilCIsRerun) {
  RunOutcome first = Run({}, 1);
  ASSERT_EQ(first.exit_code, 0) << first.stderr_text;
  std::filesystem::path job = Summary(first).job_dir();
  std::map<std::string, std::string> clean = Artifacts(job);

  std::string chunks = clean["passC_chunks.json"];
  size_t at = chunks.find("\"text\":\"") + 8;
  chunks[at] = chunks[at] == 'X' ? 'Y' : 'X';
  std::ofstream(job / "passC_chunks.json", std::ios::trunc) << chunks;

  RunOutcome blocked = Run({"--job-dir", job.string(), "--resume-from", "D"}, 1);
  EXPECT_EQ(blocked.exit_code, 1);
  EXPECT_THAT(blocked.stderr_text, HasSubstr("pass C artifact passC_chunks.json: sha256"));
  RunSummary summary = Summary(blocked);
  EXPECT_EQ(summary.status(), "failed");
  ASSERT_GT(summary.errors().first_size(), 0);
  EXPECT_THAT(summary.errors().first(0), HasSubstr("pass C"));
  Result<Manifest> manifest = LoadManifest(job / "manifest.json");
  ASSERT_OK(manifest);
  EXPECT_EQ(PassEntry(*manifest, Pass::PASS_D).status(), kPassFailed);
  EXPECT_EQ(PassEntry(*manifest, Pass::PASS_E).status(), kPassPending);
  EXPECT_EQ(PassEntry(*manifest, Pass::PASS_C).status(), kPassSuccess);

  RunOutcome repaired = Run({"--job-dir", job.string(), "--resume-from", "C"}, 1);
  ASSERT_EQ(repaired.exit_code, 0) << repaired.stderr_text;
  EXPECT_EQ(Artifacts(job), clean);
  manifest = LoadManifest(job / "manifest.json");
  ASSERT_OK(manifest);
  for (Pass p : kAllPasses) EXPECT_EQ(PassEntry(*manifest, p).status(), kPassSuccess) << PassLetter(p);
  EXPECT_EQ(manifest->runs_size(), 3);
}

TEST_F(RunTest, PassesSubsetOnAFreshJobFailsBecauseCNeedsB) {
  RunOutcome run = Run({"--passes", "A,C"}, 1);
  EXPECT_EQ(run.exit_code, 1);
  EXPECT_THAT(run.stderr_text, HasSubstr("pass C needs pass B"));
  std::filesystem::path job = Summary(run).job_dir();
  Result<Manifest> manifest = LoadManifest(job / "manifest.json");
  ASSERT_OK(manifest);
  EXPECT_EQ(PassEntry(*manifest, Pass::PASS_A).status(), kPassSuccess);
  EXPECT_EQ(PassEntry(*manifest, Pass::PASS_B).status(), kPassPending);
  EXPECT_EQ(PassEntry(*manifest, Pass::PASS_C).status(), kPassFailed);
}

TEST_F(RunTest, BadDocumentsFailAloneAndTheRunIsPartial) {
  std::ofstream(corpus_ / "binary.md", std::ios::binary) << std::string("PK\x03\x04\0\0garbage\0", 14);
  std::ofstream(dir_.path() / "secret.txt") << "outside the root";
  std::filesystem::create_symlink(dir_.path() / "secret.txt", corpus_ / "escape.txt");
  std::ofstream empty(corpus_ / "empty.txt");
  empty.close();
  // A Latin-1 name: once it held pass A until task_timeout_s (the worker could not parse its TASK).
  std::ofstream(corpus_ / "caf\xE9.md") << "# Caf\xC3\xA9\n\nA menu.\n";
  RunOutcome run = Run({}, 1);
  ASSERT_EQ(run.exit_code, 3) << run.stderr_text;
  RunSummary summary = Summary(run);
  EXPECT_EQ(summary.status(), "partial");
  EXPECT_EQ(summary.documents().failed(), 4u);
  EXPECT_EQ(summary.documents().processed(), 9u);
  Result<Manifest> manifest = LoadManifest(std::filesystem::path(summary.job_dir()) / "manifest.json");
  ASSERT_OK(manifest);
  std::map<std::string, std::string> classes;
  for (const auto& [id, doc] : manifest->documents()) {
    if (doc.status() == kDocFailed) classes[doc.path()] = doc.error_class();
  }
  EXPECT_EQ(classes["binary.md"], "invalid_document");
  EXPECT_EQ(classes["escape.txt"], "permission_denied");
  EXPECT_EQ(classes["empty.txt"], "invalid_document");
  EXPECT_EQ(classes["caf\\xE9.md"], "invalid_name");
  for (Pass p : kAllPasses) EXPECT_EQ(PassEntry(*manifest, p).status(), kPassSuccess);
  EXPECT_THAT(ReadAll(std::filesystem::path(summary.job_dir()) / "passC_chunks.json"),
              ::testing::Not(HasSubstr("outside the root")));

  // A rerun of the later passes still names the failures of the earlier ones.
  RunOutcome resumed = Run({"--job-dir", summary.job_dir(), "--resume-from", "D"}, 1);
  ASSERT_EQ(resumed.exit_code, 3) << resumed.stderr_text;
  const RunSummary again = Summary(resumed);
  EXPECT_EQ(again.errors().count(), 4u);
  std::string named;
  for (const std::string& e : again.errors().first()) named += e + "\n";
  for (const char* path : {"binary.md", "escape.txt", "empty.txt", "caf\\xE9.md"}) EXPECT_THAT(named, HasSubstr(path));
}

TEST_F(RunTest, NoWorkersEndsTheRunWithExit1AfterTheWait) {
  WriteConfig(1, 1);
  keep_config_ = true;
  RunOutcome run = Run({}, 0);
  EXPECT_EQ(run.exit_code, 1);
  EXPECT_THAT(run.stderr_text, HasSubstr("fleet.wait_for_workers_s=1"));
  EXPECT_EQ(Summary(run).status(), "failed");
}

TEST_F(RunTest, ARunPastRunDeadlineIsCancelledWithTheReasonAndOneWithinItIsNot) {
  extra_config_ = "run: { deadline_s: 600 }\n";
  RunOutcome within = Run({}, 1);
  ASSERT_EQ(within.exit_code, 0) << within.stderr_text;
  // No worker comes: the run would wait a minute for one, the deadline
  // stops it after a second, as CancelRun would.
  extra_config_ = "run: { deadline_s: 1 }\n";
  WriteConfig(1, 60);
  keep_config_ = true;
  RunOutcome past = Run({"--full-refresh"}, 0);
  EXPECT_EQ(past.exit_code, 143) << past.stderr_text;
  const RunSummary summary = Summary(past);
  EXPECT_EQ(summary.status(), "cancelled");
  ASSERT_GE(summary.errors().first_size(), 1);
  EXPECT_THAT(summary.errors().first(0), HasSubstr("deadline run.deadline_s=1 passed"));
  EXPECT_THAT(past.stderr_text, HasSubstr("run.deadline_s=1 passed: cancelling the run"));
  // The failure report says why too.
  std::string reports;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(dir_.path())) {
    if (entry.path().filename().string().rfind("RUN-", 0) == 0) reports += testing::ReadAll(entry.path());
  }
  EXPECT_THAT(reports, HasSubstr("deadline run.deadline_s=1 passed"));
}

TEST_F(RunTest, LocalWorkersRunTheJobWithoutSeparateProcesses) {
  RunOutcome run = Run({"--local-workers", "2", "--local-worker-slots", "1"}, 0);
  ASSERT_EQ(run.exit_code, 0) << run.stderr_text;
  EXPECT_EQ(Summary(run).documents().processed(), 9u);
}

TEST_F(RunTest, AJobDirectoryThatCannotBeMadeEndsTheRunWithASummaryNamingIt) {
  WriteConfig(1, 20);
  keep_config_ = true;
  // The artifact root is a file: no job directory can be made under it.
  std::string config = testing::ReadAll(dir_.path() / "ingest.yaml");
  const std::string root = "artifact_root: ./artifacts\n";
  config.replace(config.find(root), root.size(), "artifact_root: ./not-a-dir\n");
  dir_.Write("ingest.yaml", config);
  dir_.Write("not-a-dir", "a file\n");
  RunOutcome run = Run({}, 0);
  EXPECT_NE(run.exit_code, 0) << run.stderr_text;
  const RunSummary summary = Summary(run);
  EXPECT_EQ(summary.exit_code(), run.exit_code);
  EXPECT_EQ(summary.status(), "failed");
  ASSERT_EQ(summary.errors().first_size(), 1);
  EXPECT_THAT(summary.errors().first(0), HasSubstr("not-a-dir"));
}

// What `argv` writes on a pseudo-terminal (its stdout and stderr), with
// `env` ("NAME=value") added to the environment; "" if it did not end within
// 20 s (then it is killed).
std::string OnATerminal(const std::vector<std::string>& argv, const std::vector<std::string>& env) {
  int master = -1;
  int slave = -1;
  if (::openpty(&master, &slave, nullptr, nullptr, nullptr) != 0) return "";
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::setsid();
    ::ioctl(slave, TIOCSCTTY, 0);
    ::dup2(slave, STDOUT_FILENO);
    ::dup2(slave, STDERR_FILENO);
    ::close(master);
    for (const std::string& e : env) ::putenv(const_cast<char*>(e.c_str()));
    std::vector<char*> args;
    args.reserve(argv.size() + 1);
    for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    ::execv(args[0], args.data());
    ::_exit(127);
  }
  // The parent keeps the slave open, so the terminal never hangs up under
  // the reader: it reads until the child has exited and nothing more comes.
  std::string out;
  bool exited = false;
  const auto deadline = std::chrono::steady_clock::now() + testing::Scaled(20s);
  char buffer[4096];
  while (pid > 0 && std::chrono::steady_clock::now() < deadline) {
    pollfd readable{master, POLLIN, 0};
    if (::poll(&readable, 1, 100) > 0) {
      const ssize_t n = ::read(master, buffer, sizeof buffer);
      if (n > 0) out.append(buffer, static_cast<size_t>(n));
      continue;
    }
    if (exited) break;
    exited = ::waitpid(pid, nullptr, WNOHANG) == pid;
  }
  ::close(master);
  ::close(slave);
  if (pid > 0 && !exited) {
    ::kill(pid, SIGKILL);
    ::waitpid(pid, nullptr, 0);
    out.clear();
  }
  return out;
}

TEST_F(RunTest, LogLinesAreStampedInUtcAndNoColorMeansNoEscapeCodesOnATerminal) {
  std::ofstream(dir_.path() / "bad.yaml") << "env: itest\nfleet: { heartbeat_ms: soon }\nsources: []\n";
  const std::vector<std::string> argv = {Bin("ingest-coordinator"), "run", "--config",
                                         (dir_.path() / "bad.yaml").string()};
  const std::string coloured = OnATerminal(argv, {});
  ASSERT_THAT(coloured, HasSubstr("bad.yaml:2")) << "the run did not write on the terminal: " << coloured;
  EXPECT_THAT(coloured, HasSubstr("\x1b[")) << "a terminal gets colours";
  const std::string plain = OnATerminal(argv, {"NO_COLOR=1"});
  ASSERT_THAT(plain, HasSubstr("bad.yaml:2"));
  EXPECT_THAT(plain, ::testing::Not(HasSubstr("\x1b"))) << plain;
  // RFC 3339 in UTC, as in run.ndjson.
  EXPECT_THAT(plain, ::testing::ContainsRegex("(^|\n)20[0-9][0-9]-[01][0-9]-[0-3][0-9]T[0-2][0-9]:[0-5][0-9]:[0-6][0-9]"
                                              "\\.[0-9][0-9][0-9]Z error "))
      << plain;
}

TEST_F(RunTest, ProgressIsALiveLineOnATerminalAndALineAtEachPassEndWhenPiped) {
  // Piped (the fixture's stderr is a file): one line at each pass's end.
  RunOutcome piped = Run({"--full-refresh"}, 1);
  ASSERT_EQ(piped.exit_code, 0) << piped.stderr_text;
  for (const char* pass : {"A", "B", "C", "D", "E", "F"}) {
    EXPECT_THAT(piped.stderr_text,
                ::testing::ContainsRegex(std::string(" info pass ") + pass +
                                         " [0-9]+/[0-9]+ tasks \\(100%\\), 0 failed, [0-9.]+ tasks/s, done in "
                                         "[0-9]+s, 1 worker\n"))
        << pass << "\n"
        << piped.stderr_text;
  }
  EXPECT_THAT(piped.stderr_text, ::testing::Not(HasSubstr("\r")));

  // On a terminal: a live line, redrawn in place with carriage returns
  // (no escape codes under NO_COLOR), taken away before each log line.
  const std::vector<std::string> argv = {Bin("ingest-coordinator"),
                                         "run",
                                         "--config",
                                         (dir_.path() / "ingest.yaml").string(),
                                         "--manual",
                                         "--full-refresh",
                                         "--local-workers",
                                         "1"};
  const std::string terminal = OnATerminal(argv, {"NO_COLOR=1"});
  ASSERT_THAT(terminal, HasSubstr("\"status\":\"completed\"")) << terminal;
  EXPECT_THAT(terminal, ::testing::ContainsRegex("\rpass C [0-9]+/[0-9]+ tasks \\([0-9]+%\\), [0-9]+ failed, [0-9.]+ "
                                                 "tasks/s, (ETA [0-9?hms]+|done in [0-9]+s), [0-9]+ workers?"))
      << terminal;
  EXPECT_THAT(terminal, ::testing::ContainsRegex("\r +\r20[0-9][0-9]-")) << "a log line after the live one erased";
  EXPECT_THAT(terminal, ::testing::Not(HasSubstr("\x1b"))) << terminal;
}

TEST_F(RunTest, LogLevelAndLogFileChooseWhatIsLoggedAndWhere) {
  const std::filesystem::path ndjson = dir_.path() / "elsewhere.ndjson";
  // Local workers: the fixture's own wait for "fleet: listening on", an
  // info line, would not see it.
  RunOutcome quiet = Run({"--log-level", "warn", "--log-file", ndjson.string(), "--local-workers", "1"}, 0);
  ASSERT_EQ(quiet.exit_code, 0) << quiet.stderr_text;
  EXPECT_THAT(quiet.stderr_text, ::testing::Not(HasSubstr(" info run "))) << quiet.stderr_text;
  EXPECT_FALSE(std::filesystem::exists(std::filesystem::path(Summary(quiet).job_dir()) / "run.ndjson"));
  EXPECT_TRUE(std::filesystem::exists(ndjson));
  RunOutcome chatty = Run({"--full-refresh", "--log-level", "debug", "--log-file", ndjson.string()}, 1);
  ASSERT_EQ(chatty.exit_code, 0) << chatty.stderr_text;
  EXPECT_THAT(chatty.stderr_text, HasSubstr(" debug "));
  const std::string lines = testing::ReadAll(ndjson);
  EXPECT_THAT(lines, HasSubstr("\"run_id\":\"" + Summary(chatty).run_id() + "\""));
  EXPECT_THAT(lines, HasSubstr("\"level\":\"debug\""));
}

// --version, --help and unknown flags, the same way in the three binaries.
TEST_F(RunTest, EveryBinaryHasAVersionHelpThatStartsWithAnExampleAndNamesUnknownFlags) {
  for (const char* binary : {"ingest-coordinator", "ingest-worker", "ingestctl"}) {
    const std::string name = binary;
    Subprocess version({Bin(binary), "--version"}, dir_.path() / (name + ".version"), dir_.path() / (name + ".err"));
    EXPECT_EQ(version.Wait(testing::Scaled(20s)), 0) << version.Stderr();
    EXPECT_EQ(version.Stdout(), name + " " + INGEST_VERSION + "\n");
    Subprocess help({Bin(binary), "--help"}, dir_.path() / (name + ".help"), dir_.path() / (name + ".err"));
    EXPECT_EQ(help.Wait(testing::Scaled(20s)), 0);
    EXPECT_EQ(help.Stdout().rfind("Example:\n  " + name + " ", 0), 0u) << help.Stdout();
  }
  Subprocess run_help({Bin("ingest-coordinator"), "run", "--help"}, dir_.path() / "run.help", dir_.path() / "run.err");
  EXPECT_EQ(run_help.Wait(testing::Scaled(20s)), 0);
  EXPECT_EQ(run_help.Stdout().rfind("Example:\n  ingest-coordinator run --config", 0), 0u) << run_help.Stdout();
  // A typo is named, not taken for a missing --config.
  Subprocess typo({Bin("ingest-coordinator"), "run", "--confgi", "x.yaml"}, dir_.path() / "typo.out",
                  dir_.path() / "typo.err");
  EXPECT_EQ(typo.Wait(testing::Scaled(20s)), 2);
  EXPECT_THAT(typo.Stderr(), HasSubstr("unknown flag --confgi"));
  EXPECT_THAT(typo.Stderr(), ::testing::Not(HasSubstr("--config is required")));
  Subprocess ctl_typo({Bin("ingestctl"), "runs", "--limt=5"}, dir_.path() / "ctl.out", dir_.path() / "ctl.err");
  EXPECT_EQ(ctl_typo.Wait(testing::Scaled(20s)), 2);
  EXPECT_THAT(ctl_typo.Stderr(), HasSubstr("ingestctl: unknown flag --limt"));
}

TEST_F(RunTest, ConfigErrorsExit2AndCheckValidates) {
  WriteConfig(1, 20);
  std::ofstream(dir_.path() / "bad.yaml") << "env: itest\nfleet: { heartbeat_ms: soon }\nsources: []\n";
  Subprocess bad({Bin("ingest-coordinator"), "run", "--config", (dir_.path() / "bad.yaml").string()},
                 dir_.path() / "bad.out", dir_.path() / "bad.err");
  EXPECT_EQ(bad.Wait(testing::Scaled(20s)), 2);
  EXPECT_THAT(bad.Stderr(), HasSubstr("bad.yaml:2: key 'fleet.heartbeat_ms'"));
  // Whatever the exit code, the last line of stdout is the run's summary.
  RunSummary summary;
  ASSERT_OK(FromJson(testing::LastLine(bad.Stdout()), &summary)) << bad.Stdout();
  EXPECT_EQ(summary.exit_code(), 2);
  EXPECT_EQ(summary.status(), "failed");
  ASSERT_EQ(summary.errors().first_size(), 1);
  EXPECT_THAT(summary.errors().first(0), HasSubstr("bad.yaml:2: key 'fleet.heartbeat_ms'"));
  Subprocess check_bad({Bin("ingest-coordinator"), "check", "--config", (dir_.path() / "bad.yaml").string()},
                       dir_.path() / "c1.out", dir_.path() / "c1.err");
  EXPECT_EQ(check_bad.Wait(testing::Scaled(20s)), 2);
  Subprocess check_good({Bin("ingest-coordinator"), "check", "--config", (dir_.path() / "ingest.yaml").string()},
                        dir_.path() / "c2.out", dir_.path() / "c2.err");
  EXPECT_EQ(check_good.Wait(testing::Scaled(20s)), 0);
  std::ofstream(dir_.path() / "moved.yaml") << "env: itest\nsources:\n  - name: docs\n    kind: files\n"
                                               "    root: corpus-that-moved\n";
  Subprocess check_moved({Bin("ingest-coordinator"), "check", "--config", (dir_.path() / "moved.yaml").string()},
                         dir_.path() / "c3.out", dir_.path() / "c3.err");
  EXPECT_EQ(check_moved.Wait(testing::Scaled(20s)), 2);
  EXPECT_THAT(check_moved.Stderr(), HasSubstr("moved.yaml:5: key 'sources[0].root': "));
  EXPECT_THAT(check_moved.Stderr(), HasSubstr("corpus-that-moved does not exist (source docs)"));
}

}  // namespace
}  // namespace ingest

namespace ingest {
namespace {

TEST_F(RunTest, PassFReportsTheOldJobsRetentionDeletesAtTheEndOfTheRun) {
  const auto env_dir = dir_.path() / "artifacts" / "ingest" / "itest";
  const std::string old_job = MakeJobId(std::chrono::system_clock::now() - std::chrono::hours(24 * 60)).value;
  Manifest m = NewManifest(old_job, "itest");
  m.set_status(kJobFailed);
  std::filesystem::create_directories(env_dir / old_job);
  ASSERT_OK(SaveManifest(env_dir / old_job / kManifestFileName, m));

  RunOutcome run = Run({}, 1);
  ASSERT_EQ(run.exit_code, 0) << run.stderr_text;
  const RunSummary summary = Summary(run);
  CleanupRecord cleanup;
  ASSERT_OK(ScanArtifact(std::filesystem::path(summary.job_dir()) / ArtifactFileName(Pass::PASS_F), Pass::PASS_F,
                         [&cleanup](const google::protobuf::Message& record) {
                           cleanup.CopyFrom(record);
                           return Status::Ok();
                         }));
  EXPECT_EQ(cleanup.stale_deleted(), 1u);
  EXPECT_FALSE(std::filesystem::exists(env_dir / old_job)) << "deleted once the run's outcome was recorded";
  EXPECT_THAT(run.stderr_text, ::testing::HasSubstr("retention: deleted job " + old_job));
}

TEST_F(RunTest, RetentionCommandGzipsOldLogsAndDeletesOldJobsButKeepsCompletedOnes) {
  // A normal run gives the env its state store and a current job.
  ASSERT_EQ(Run({}, 1).exit_code, 0);
  const auto env_dir = dir_.path() / "artifacts" / "ingest" / "itest";
  const auto now = std::chrono::system_clock::now();
  auto make_job = [&](int days_ago, const char* status) {
    const std::string job = MakeJobId(now - std::chrono::hours(24 * days_ago)).value;
    Manifest m = NewManifest(job, "itest");
    m.set_status(status);
    std::filesystem::create_directories(env_dir / job);
    EXPECT_OK(SaveManifest(env_dir / job / kManifestFileName, m));
    std::ofstream(env_dir / job / "run.ndjson") << "{\"message\":\"" << job << "\"}\n";
    return env_dir / job;
  };
  const auto completed_10_days = make_job(10, kJobCompleted);
  const auto failed_60_days = make_job(60, kJobFailed);
  const auto partial_2_days = make_job(2, kJobPartial);

  testing::Subprocess retention(
      {Bin("ingest-coordinator"), "retention", "--config", (dir_.path() / "ingest.yaml").string()},
      dir_.path() / "retention.out", dir_.path() / "retention.err");
  ASSERT_EQ(retention.Wait(testing::Scaled(std::chrono::seconds(30))), 0) << retention.Stderr();
  EXPECT_THAT(retention.Stdout(), ::testing::HasSubstr("1 run logs gzipped"));
  EXPECT_THAT(retention.Stdout(), ::testing::HasSubstr("1 job directories deleted"));
  EXPECT_TRUE(std::filesystem::exists(completed_10_days / "run.ndjson.gz"));
  EXPECT_FALSE(std::filesystem::exists(completed_10_days / "run.ndjson"));
  EXPECT_FALSE(std::filesystem::exists(failed_60_days));
  EXPECT_TRUE(std::filesystem::exists(partial_2_days / "run.ndjson"));
}

}  // namespace
}  // namespace ingest
