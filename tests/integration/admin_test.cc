// The admin API and ingestctl against real coordinators on loopback: runs
// triggered, watched, listed, cancelled and resumed; tokens, health,
// reflection and TLS; a `run` serving its own run.

#include <algorithm>
#include <set>

#include "grpc/reflection/v1alpha/reflection.grpc.pb.h"
#include "tests/integration/admin_fixture.h"

namespace ingest {
namespace {

using testing::AdminTest;
using ::testing::HasSubstr;
using testing::ReadAll;
using testing::Scaled;
using testing::Subprocess;
using namespace std::chrono_literals;
namespace admin = ::ingestfleet::admin::v1;

std::map<std::string, std::string> Artifacts(const std::filesystem::path& job) {
  std::map<std::string, std::string> files;
  for (const char* name : {"passA_toc.json", "passB_splits.json", "passC_chunks.json", "passD_enriched.json",
                           "passE_graph.json", "passF_cleanup.json"}) {
    files[name] = ReadAll(job / name);
  }
  return files;
}

TEST_F(AdminTest, ATriggeredRunIsWatchedToItsEndAndGetRunGivesItsSummary) {
  StartServe();
  admin::Run started = Trigger();
  ASSERT_FALSE(started.run_id().empty());
  EXPECT_EQ(started.trigger(), admin::TRIGGER_API);
  EXPECT_TRUE(started.state() == admin::RUN_STATE_QUEUED || started.state() == admin::RUN_STATE_RUNNING);

  std::vector<admin::RunEvent> events = WatchAll(started.run_id());
  ASSERT_GE(events.size(), 2u);
  EXPECT_TRUE(events.front().has_snapshot()) << "a watch starts with a snapshot";
  ASSERT_TRUE(events.back().has_run_ended());
  std::set<std::string> started_passes;
  std::set<std::string> ended_passes;
  // What was under way before the watch began is in its snapshot.
  for (const admin::PassStatus& p : events.front().snapshot().passes()) {
    if (p.status() != "PENDING") started_passes.insert(p.pass());
    if (p.status() == "SUCCESS") ended_passes.insert(p.pass());
  }
  for (const admin::RunEvent& e : events) {
    if (e.has_pass_started()) started_passes.insert(e.pass_started().pass());
    if (e.has_pass_ended()) {
      ended_passes.insert(e.pass_ended().pass().pass());
      EXPECT_EQ(e.pass_ended().pass().status(), "SUCCESS");
      EXPECT_EQ(e.pass_ended().pass().tasks_done(), e.pass_ended().pass().tasks_total());
    }
  }
  const std::set<std::string> all = {"A", "B", "C", "D", "E", "F"};
  EXPECT_EQ(started_passes, all);
  EXPECT_EQ(ended_passes, all);
  const admin::Run& ended = events.back().run_ended();
  EXPECT_EQ(ended.state(), admin::RUN_STATE_COMPLETED);
  EXPECT_EQ(ended.exit_code(), 0);

  // GetRun (from the store once the run is over) says what the run printed.
  RunSummary printed;
  const std::string out = ReadAll(serve_out_);
  ASSERT_OK(FromJson(out.substr(0, out.find('\n')), &printed)) << out;
  const admin::Run got = Get(started.run_id());
  EXPECT_EQ(ToJson(got.summary()), ToJson(printed));
  EXPECT_EQ(ToJson(ended.summary()), ToJson(printed));
  EXPECT_EQ(got.state(), admin::RUN_STATE_COMPLETED);
  EXPECT_EQ(got.passes_size(), 6);
  EXPECT_FALSE(got.job_dir().empty());

  // A finished run's watch is its final snapshot alone.
  std::vector<admin::RunEvent> again = WatchAll(started.run_id());
  ASSERT_EQ(again.size(), 1u);
  EXPECT_EQ(again[0].snapshot().state(), admin::RUN_STATE_COMPLETED);
}

TEST_F(AdminTest, ListRunsPagesThroughRunsOfTheCommandLineAndOfTheApi) {
  StartServe();
  std::set<std::string> made;
  for (int i = 0; i < 2; ++i) made.insert(WaitEnded(Trigger().run_id()).run_id());
  StopServe();  // the command line's runs take the env's lock themselves
  for (int i = 0; i < 3; ++i) {
    Subprocess run({Bin("ingest-coordinator"), "run", "--config", (dir_.path() / "ingest.yaml").string(), "--manual",
                    "--local-workers", "1"},
                   dir_.path() / ("cli" + std::to_string(i) + ".out"),
                   dir_.path() / ("cli" + std::to_string(i) + ".err"));
    ASSERT_EQ(run.Wait(Scaled(120s)), 0) << run.Stderr();
    RunSummary summary;
    ASSERT_OK(FromJson(testing::LastLine(run.Stdout()), &summary));
    made.insert(summary.run_id());
  }
  StartServe();
  std::vector<std::string> listed;
  std::vector<int64_t> started_ms;
  std::string token;
  int pages = 0;
  do {
    admin::ListRunsRequest request;
    request.set_page_size(2);
    request.set_page_token(token);
    admin::ListRunsResponse response;
    auto context = Context("read-secret-2");
    ASSERT_TRUE(Stub()->ListRuns(context.get(), request, &response).ok());
    EXPECT_LE(response.runs_size(), 2);
    for (const admin::Run& r : response.runs()) {
      listed.push_back(r.run_id());
      started_ms.push_back(r.start_time().seconds() * 1000 + r.start_time().nanos() / 1000000);
    }
    token = response.next_page_token();
    ++pages;
  } while (!token.empty() && pages < 10);
  EXPECT_EQ(pages, 3);
  ASSERT_EQ(listed.size(), 5u);
  EXPECT_EQ(std::set<std::string>(listed.begin(), listed.end()), made) << "no run twice, none missing";
  EXPECT_TRUE(std::is_sorted(started_ms.rbegin(), started_ms.rend())) << "newest first";

  admin::ListRunsRequest failed;
  failed.set_state(admin::RUN_STATE_FAILED);
  admin::ListRunsResponse none;
  auto context = Context("read-secret-2");
  ASSERT_TRUE(Stub()->ListRuns(context.get(), failed, &none).ok());
  EXPECT_EQ(none.runs_size(), 0);
  admin::ListRunsRequest bad;
  bad.set_page_token("not-a-token");
  auto bad_context = Context();
  EXPECT_EQ(Stub()->ListRuns(bad_context.get(), bad, &none).error_code(), grpc::StatusCode::INVALID_ARGUMENT);
}

TEST_F(AdminTest, ATriggerWhileARunHoldsTheLockIsRefusedAndARepeatedRequestIdGivesTheSameRun) {
  WriteCorpus(150, 4);
  // No worker until the refusals are seen: the run holds the lock, waiting
  // for the fleet, however fast this machine is.
  StartServe("", 0);
  admin::Run first = Trigger({}, "nightly-retry-1");
  admin::Run same = Trigger({}, "nightly-retry-1");
  EXPECT_EQ(same.run_id(), first.run_id()) << "a retried trigger starts nothing new";

  admin::TriggerRunRequest request;
  admin::TriggerRunResponse response;
  auto context = Context();
  grpc::Status refused = Stub()->TriggerRun(context.get(), request, &response);
  EXPECT_EQ(refused.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_THAT(refused.error_message(), HasSubstr(first.run_id()));
  auto reason = context->GetServerTrailingMetadata().find("ingestfleet-reason");
  ASSERT_NE(reason, context->GetServerTrailingMetadata().end());
  EXPECT_EQ(std::string(reason->second.data(), reason->second.size()), "RUN_LOCKED");
  EXPECT_EQ(Ctl({"run"}), 4) << ctl_err_;
  EXPECT_THAT(ctl_err_, HasSubstr(first.run_id()));
  StartWorker();
  EXPECT_EQ(WaitEnded(first.run_id()).state(), admin::RUN_STATE_COMPLETED);
  EXPECT_EQ(Trigger({}, "nightly-retry-1").run_id(), first.run_id()) << "also once it ended (from the store)";
}

TEST_F(AdminTest, ARunCancelledInPassCIsResumedToTheArtifactsOfACleanRun) {
  WriteCorpus(200, 2);
  StartServe();
  admin::RunFlags full;
  full.set_full_refresh(true);
  const admin::Run clean = WaitEnded(Trigger(full).run_id());
  ASSERT_EQ(clean.state(), admin::RUN_STATE_COMPLETED);
  const auto expected = Artifacts(clean.job_dir());

  const admin::Run run = Trigger(full);
  // Cancelled once pass C has committed some results (the run's own count,
  // as GetRun reports it), whatever the speed.
  const auto committed_in_c = [](const admin::Run& now) {
    for (const admin::PassStatus& p : now.passes()) {
      if (p.pass() == "C") return p.status() != "PENDING" && p.tasks_done() > 0;
    }
    return false;
  };
  const auto deadline = std::chrono::steady_clock::now() + Scaled(60s);
  while (std::chrono::steady_clock::now() < deadline && !committed_in_c(Get(run.run_id()))) {
    std::this_thread::sleep_for(2ms);
  }
  admin::CancelRunRequest request;
  request.set_run_id(run.run_id());
  request.set_reason("wrong corpus");
  admin::Run answer;
  auto cancel_context = Context();
  ASSERT_TRUE(Stub()->CancelRun(cancel_context.get(), request, &answer).ok());
  const admin::Run ended = WaitEnded(run.run_id());
  EXPECT_EQ(ended.state(), admin::RUN_STATE_CANCELLED);
  EXPECT_EQ(ended.exit_code(), 143);
  EXPECT_EQ(ended.cancel_reason(), "CancelRun: wrong corpus");
  EXPECT_EQ(Get(run.run_id()).state(), admin::RUN_STATE_CANCELLED);

  admin::CancelRunRequest again;
  again.set_run_id(run.run_id());
  admin::Run unused;
  auto again_context = Context();
  EXPECT_EQ(Stub()->CancelRun(again_context.get(), again, &unused).error_code(), grpc::StatusCode::FAILED_PRECONDITION);

  // The lock is released: the resume starts at once and reuses what pass C committed.
  admin::ResumeRunRequest resume;
  resume.set_run_id(run.run_id());
  admin::Run resumed;
  auto context = Context();
  ASSERT_TRUE(Stub()->ResumeRun(context.get(), resume, &resumed).ok());
  const admin::Run done = WaitEnded(resumed.run_id());
  ASSERT_EQ(done.state(), admin::RUN_STATE_COMPLETED) << ReadAll(serve_err_);
  EXPECT_EQ(done.job_id(), ended.job_id());
  EXPECT_TRUE(done.flags().full_refresh()) << "the resume keeps the run's flags";
  // The cancel may still land after pass C ended (C is short: 200
  // documents): D may then have committed results of its own, which the
  // resume takes over, or none yet.
  const auto status_of = [&](const char* letter) {
    for (const admin::PassStatus& p : ended.passes()) {
      if (p.pass() == letter) return p.status();
    }
    return std::string();
  };
  const bool d_started = status_of("D") != "PENDING";
  if (status_of("C") != "SUCCESS") {
    EXPECT_GT(done.summary().tasks().reused(), 0u) << "what pass C committed";
  }
  for (const admin::PassStatus& pass : done.passes()) {
    // Nothing is carried forward from the clean job: D ran every document.
    if (pass.pass() == "D" && !d_started) {
      EXPECT_EQ(pass.tasks_reused(), 0u);
    }
  }
  EXPECT_EQ(Artifacts(done.job_dir()), expected);
}

TEST_F(AdminTest, TokensAreCheckedAndTheReadTokenOnlyReads) {
  StartServe();
  admin::GetRunRequest get;
  get.set_run_id("run_none");
  admin::Run run;
  auto none = Context("");
  EXPECT_EQ(Stub()->GetRun(none.get(), get, &run).error_code(), grpc::StatusCode::UNAUTHENTICATED);
  auto wrong = Context("guess");
  EXPECT_EQ(Stub()->GetRun(wrong.get(), get, &run).error_code(), grpc::StatusCode::UNAUTHENTICATED);
  auto read = Context("read-secret-2");
  EXPECT_EQ(Stub()->GetRun(read.get(), get, &run).error_code(), grpc::StatusCode::NOT_FOUND);
  admin::TriggerRunResponse response;
  auto read_trigger = Context("read-secret-2");
  EXPECT_EQ(Stub()->TriggerRun(read_trigger.get(), admin::TriggerRunRequest(), &response).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  admin::CancelRunRequest cancel;
  cancel.set_run_id("run_none");
  auto read_cancel = Context("read-secret-2");
  EXPECT_EQ(Stub()->CancelRun(read_cancel.get(), cancel, &run).error_code(), grpc::StatusCode::PERMISSION_DENIED);
  // Probes need no token.
  grpc::health::v1::HealthCheckResponse health;
  grpc::ClientContext probe;
  ASSERT_TRUE(grpc::health::v1::Health::NewStub(Channel())->Check(&probe, {}, &health).ok());
  EXPECT_EQ(health.status(), grpc::health::v1::HealthCheckResponse::SERVING);
  EXPECT_EQ(Ctl({"--token-file", (dir_.path() / "read-token").string(), "run"}), 77) << ctl_err_;
  dir_.Write("bad-token", "nope\n");
  EXPECT_EQ(Ctl({"--token-file", (dir_.path() / "bad-token").string(), "runs"}), 77) << ctl_err_;
  EXPECT_THAT(ReadAll(serve_err_), ::testing::Not(HasSubstr("operate-secret-1")));
}

TEST_F(AdminTest, HealthGoesNotServingWhenTheServerShutsDown) {
  StartServe();
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + Scaled(60s));
  auto reader = grpc::health::v1::Health::NewStub(Channel())->Watch(&context, {});
  grpc::health::v1::HealthCheckResponse status;
  ASSERT_TRUE(reader->Read(&status));
  EXPECT_EQ(status.status(), grpc::health::v1::HealthCheckResponse::SERVING);
  serve_->Signal(SIGTERM);
  bool not_serving = false;
  while (reader->Read(&status)) {
    if (status.status() == grpc::health::v1::HealthCheckResponse::NOT_SERVING) not_serving = true;
  }
  EXPECT_TRUE(not_serving);
  EXPECT_EQ(serve_->Wait(Scaled(30s)), 0);
  serve_.reset();
}

TEST_F(AdminTest, ReflectionListsTheAdminAndHealthServices) {
  StartServe();
  auto stub = grpc::reflection::v1alpha::ServerReflection::NewStub(Channel());
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + Scaled(10s));
  auto stream = stub->ServerReflectionInfo(&context);
  grpc::reflection::v1alpha::ServerReflectionRequest request;
  request.set_list_services("");
  ASSERT_TRUE(stream->Write(request));
  stream->WritesDone();
  grpc::reflection::v1alpha::ServerReflectionResponse response;
  ASSERT_TRUE(stream->Read(&response));
  std::set<std::string> services;
  for (const auto& s : response.list_services_response().service()) services.insert(s.name());
  EXPECT_EQ(services.count("ingestfleet.admin.v1.Admin"), 1u);
  EXPECT_EQ(services.count("grpc.health.v1.Health"), 1u);
  stream->Finish();
}

TEST_F(AdminTest, TlsServesClientsThatTrustTheCertificateAndRefusesPlaintext) {
  ASSERT_NO_FATAL_FAILURE(MakeServerCertificate());
  StartServe("  tls: { cert: ./server.crt, key: ./server.key }\n");
  grpc::SslCredentialsOptions tls;
  tls.pem_root_certs = ReadAll(dir_.path() / "server.crt");
  auto secure = grpc::health::v1::Health::NewStub(grpc::CreateChannel(address_, grpc::SslCredentials(tls)));
  grpc::health::v1::HealthCheckResponse health;
  grpc::ClientContext ok_context;
  ok_context.set_deadline(std::chrono::system_clock::now() + Scaled(10s));
  EXPECT_TRUE(secure->Check(&ok_context, {}, &health).ok());
  grpc::ClientContext plain_context;
  plain_context.set_deadline(std::chrono::system_clock::now() + Scaled(5s));
  EXPECT_FALSE(grpc::health::v1::Health::NewStub(Channel())->Check(&plain_context, {}, &health).ok());
  EXPECT_EQ(Ctl({"--tls-ca", (dir_.path() / "server.crt").string(), "health"}), 0) << ctl_err_;
}

TEST_F(AdminTest, AWatcherThatGoesAwayMidStreamDoesNotDisturbTheRun) {
  WriteCorpus(50, 2);
  StartServe();
  const admin::Run run = Trigger();
  int seen = 0;
  WatchAll(run.run_id(), [&seen](const admin::RunEvent&) { return ++seen < 3; });
  const admin::Run ended = WaitEnded(run.run_id());
  EXPECT_EQ(ended.state(), admin::RUN_STATE_COMPLETED);
}

TEST_F(AdminTest, IngestctlAgainstAServerThatIsDownExits69) {
  address_ = "127.0.0.1:" + std::to_string(testing::FreeLoopbackPort());
  EXPECT_EQ(Ctl({"--timeout", "2", "runs"}, Scaled(30s)), 69) << ctl_err_;
  EXPECT_EQ(Ctl({"--timeout", "2", "health"}, Scaled(30s)), 69) << ctl_err_;
  EXPECT_EQ(Ctl({"runs", "--limit", "0"}), 2) << "usage";
}

TEST_F(AdminTest, EveryJsonOutputOfIngestctlParses) {
  std::ofstream empty(corpus_ / "empty.txt");  // fails pass A: a partial run with a report
  empty.close();
  StartServe();
  ASSERT_EQ(Ctl({"--json", "run", "--wait"}), 3) << ctl_err_;
  std::vector<std::string> lines;
  for (size_t at = 0, nl; (nl = ctl_out_.find('\n', at)) != std::string::npos; at = nl + 1) {
    lines.push_back(ctl_out_.substr(at, nl - at));
  }
  ASSERT_FALSE(lines.empty());
  admin::RunEvent event;
  for (const std::string& line : lines) ASSERT_OK(FromJson(line, &event)) << line;
  ASSERT_TRUE(event.has_run_ended());
  const std::string run_id = event.run_ended().run_id();
  EXPECT_EQ(event.run_ended().state(), admin::RUN_STATE_PARTIAL);

  admin::Run run;
  ASSERT_EQ(Ctl({"--json", "status", run_id}), 0);
  EXPECT_OK(FromJson(ctl_out_, &run)) << ctl_out_;
  admin::ListRunsResponse runs;
  ASSERT_EQ(Ctl({"--json", "runs"}), 0);
  EXPECT_OK(FromJson(ctl_out_, &runs)) << ctl_out_;
  EXPECT_EQ(runs.runs_size(), 1);
  admin::ListWorkersResponse workers;
  ASSERT_EQ(Ctl({"--json", "workers"}), 0);
  EXPECT_OK(FromJson(ctl_out_, &workers)) << ctl_out_;
  EXPECT_EQ(workers.workers_size(), 2);
  admin::Plan plan;
  ASSERT_EQ(Ctl({"--json", "plan"}), 0);
  EXPECT_OK(FromJson(ctl_out_, &plan)) << ctl_out_;
  admin::Report report;
  ASSERT_EQ(Ctl({"--json", "report", run_id}), 0);
  EXPECT_OK(FromJson(ctl_out_, &report)) << ctl_out_;
  EXPECT_THAT(report.markdown(), HasSubstr("empty.txt"));
  ASSERT_EQ(Ctl({"--json", "logs", run_id, "--tail", "5"}), 0);
  EXPECT_EQ(std::count(ctl_out_.begin(), ctl_out_.end(), '\n'), 5);
  LogLine log;
  EXPECT_OK(FromJson(ctl_out_.substr(0, ctl_out_.find('\n')), &log));
  grpc::health::v1::HealthCheckResponse health;
  ASSERT_EQ(Ctl({"--json", "health"}), 0);
  EXPECT_OK(FromJson(ctl_out_, &health)) << ctl_out_;
  // The human report is the Markdown itself.
  ASSERT_EQ(Ctl({"report", run_id}), 0);
  EXPECT_THAT(ctl_out_, HasSubstr("# "));
}

TEST_F(AdminTest, ARunWithAdminListenServesItsOwnRunAndIsCancelledThroughIt) {
  WriteCorpus(200, 2);
  dir_.Write("ingest.yaml", Config());
  Subprocess run({Bin("ingest-coordinator"), "run", "--config", (dir_.path() / "ingest.yaml").string(), "--manual",
                  "--admin-listen", "127.0.0.1:0", "--local-workers", "2", "--local-worker-slots", "1"},
                 dir_.path() / "run.out", dir_.path() / "run.err");
  address_ = testing::WaitForLine(dir_.path() / "run.err", "admin: listening on ", Scaled(20s));
  address_ = address_.substr(0, address_.find(' '));
  ASSERT_FALSE(address_.empty()) << run.Stderr();
  admin::ListRunsResponse runs;
  auto list = Context("read-secret-2");
  const grpc::Status listed = Stub()->ListRuns(list.get(), admin::ListRunsRequest(), &runs);
  ASSERT_TRUE(listed.ok()) << listed.error_message();
  ASSERT_EQ(runs.runs_size(), 1) << "its own run";
  const std::string run_id = runs.runs(0).run_id();

  admin::TriggerRunResponse refused;
  auto trigger = Context();
  grpc::Status status = Stub()->TriggerRun(trigger.get(), admin::TriggerRunRequest(), &refused);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_THAT(status.error_message(), HasSubstr("ingest-coordinator serve"));

  bool cancelled = false;
  // Pass C or a later one under way: when it began before the watch did
  // (a fast run, a slow sanitizer build of this test), the watch's snapshot
  // says so instead of an event.
  const auto under_way = [](const admin::RunEvent& e) {
    if (e.has_pass_started()) return e.pass_started().pass() >= "C";
    if (!e.has_snapshot()) return false;
    return std::any_of(e.snapshot().passes().begin(), e.snapshot().passes().end(),
                       [](const admin::PassStatus& p) { return p.pass() >= "C" && p.status() == "RUNNING"; });
  };
  WatchAll(run_id, [&](const admin::RunEvent& e) {
    if (!cancelled && under_way(e)) {
      // Through the stub, not a second ingestctl: the run must still be
      // going when the cancel arrives, on a fast machine too.
      admin::ListWorkersResponse workers;
      auto read = Context("read-secret-2");
      EXPECT_TRUE(Stub()->ListWorkers(read.get(), admin::ListWorkersRequest(), &workers).ok());
      EXPECT_GT(workers.workers_size(), 0);
      for (const admin::Worker& worker : workers.workers()) EXPECT_THAT(worker.worker_id(), HasSubstr("local-"));
      EXPECT_EQ(Ctl({"cancel", run_id}), 0) << ctl_err_;
      cancelled = true;
    }
    return true;
  });
  ASSERT_TRUE(cancelled);
  EXPECT_EQ(run.Wait(Scaled(60s)), 143) << run.Stderr();
  RunSummary summary;
  ASSERT_OK(FromJson(testing::LastLine(run.Stdout()), &summary));
  EXPECT_EQ(summary.status(), "cancelled");
}

TEST_F(AdminTest, IngestctlInterruptedWhileWatchingExits130AndTheRunGoesOn) {
  WriteCorpus(200, 2);
  StartServe();
  const admin::Run run = Trigger();
  Subprocess watch({Bin("ingestctl"), "--server", address_, "--token-file", (dir_.path() / "read-token").string(),
                    "watch", run.run_id()},
                   dir_.path() / "watch.out", dir_.path() / "watch.err", {"NO_COLOR=1"});
  // Following: it printed the run's snapshot.
  ASSERT_FALSE(testing::WaitForLine(dir_.path() / "watch.err", "run run_", Scaled(30s)).empty())
      << ReadAll(dir_.path() / "watch.err");
  watch.Signal(SIGINT);
  EXPECT_EQ(watch.Wait(Scaled(20s)), 130) << ReadAll(dir_.path() / "watch.err");
  EXPECT_THAT(ReadAll(dir_.path() / "watch.err"), HasSubstr("the run goes on"));
  EXPECT_EQ(WaitEnded(run.run_id()).state(), admin::RUN_STATE_COMPLETED);
}

TEST_F(AdminTest, IngestctlAnswersVersionAndHelpWithAnExample) {
  EXPECT_EQ(Ctl({"--version"}), 0);
  EXPECT_THAT(ctl_out_, HasSubstr("ingestctl " INGEST_VERSION));
  for (const char* command :
       {"run", "plan", "status", "runs", "watch", "logs", "workers", "cancel", "resume", "report", "health"}) {
    EXPECT_EQ(Ctl({command, "--help"}), 0) << command;
    EXPECT_EQ(ctl_out_.rfind("Example:\n  ingestctl ", 0), 0u) << command << ": " << ctl_out_;
  }
  EXPECT_EQ(Ctl({"launch"}), 2) << "an unknown command is a usage error";
}

TEST_F(AdminTest, WithoutATokenTheApiListensOnLoopbackOnlyAndSaysSo) {
  StartServe("", 1, /*tokens=*/false, "0.0.0.0:0");
  EXPECT_EQ(address_.rfind("127.0.0.1:", 0), 0u) << address_;
  EXPECT_THAT(ReadAll(serve_err_), HasSubstr("no admin.token_file, so the API listens on loopback only"));
  admin::ListRunsResponse runs;
  auto context = Context("");
  EXPECT_TRUE(Stub()->ListRuns(context.get(), admin::ListRunsRequest(), &runs).ok());
}

TEST_F(AdminTest, MutualTlsServesOnlyClientsWithACertificateOfTheClientCa) {
  auto openssl = [this](std::vector<std::string> args) {
    args.insert(args.begin(), "/usr/bin/openssl");
    Subprocess run(args, dir_.path() / "openssl.out", dir_.path() / "openssl.err");
    EXPECT_EQ(run.Wait(Scaled(60s)), 0) << run.Stderr();
  };
  const std::string d = dir_.path().string() + "/";
  openssl({"req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=test-ca", "-keyout",
           d + "ca.key", "-out", d + "ca.crt"});
  for (const std::string who : {"server", "client"}) {
    openssl({"req", "-newkey", "rsa:2048", "-nodes", "-subj",
             "/CN=" + (who == "server" ? std::string("localhost") : who), "-keyout", d + who + ".key", "-out",
             d + who + ".csr"});
    dir_.Write(who + ".ext", "subjectAltName=DNS:localhost,IP:127.0.0.1\n");
    openssl({"x509", "-req", "-in", d + who + ".csr", "-CA", d + "ca.crt", "-CAkey", d + "ca.key", "-CAcreateserial",
             "-days", "2", "-extfile", d + who + ".ext", "-out", d + who + ".crt"});
  }
  StartServe("  tls: { cert: ./server.crt, key: ./server.key, client_ca: ./ca.crt }\n");
  grpc::health::v1::HealthCheckResponse health;
  grpc::SslCredentialsOptions with_cert;
  with_cert.pem_root_certs = ReadAll(d + "ca.crt");
  with_cert.pem_cert_chain = ReadAll(d + "client.crt");
  with_cert.pem_private_key = ReadAll(d + "client.key");
  grpc::ClientContext ok;
  ok.set_deadline(std::chrono::system_clock::now() + Scaled(10s));
  EXPECT_TRUE(grpc::health::v1::Health::NewStub(grpc::CreateChannel(address_, grpc::SslCredentials(with_cert)))
                  ->Check(&ok, {}, &health)
                  .ok());
  grpc::SslCredentialsOptions without_cert;
  without_cert.pem_root_certs = with_cert.pem_root_certs;
  grpc::ClientContext refused;
  refused.set_deadline(std::chrono::system_clock::now() + Scaled(5s));
  EXPECT_FALSE(grpc::health::v1::Health::NewStub(grpc::CreateChannel(address_, grpc::SslCredentials(without_cert)))
                   ->Check(&refused, {}, &health)
                   .ok());
  EXPECT_EQ(Ctl({"--tls-ca", d + "ca.crt", "--tls-cert", d + "client.crt", "--tls-key", d + "client.key", "health"}), 0)
      << ctl_err_;
}

}  // namespace
}  // namespace ingest
