#pragma once

// A coordinator serving the admin API on loopback (a free port, read back
// from its log), real workers, and gRPC clients with or without a token.
// Every process is owned by a Subprocess, which kills it if a test fails.

#include <grpcpp/grpcpp.h>
#include <signal.h>

#include <fstream>
#include <memory>
#include <thread>

#include "common/proto_json.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "proto/admin.grpc.pb.h"
#include "tests/testing/testing.h"

namespace ingest::testing {

namespace admin = ::ingestfleet::admin::v1;
using namespace std::chrono_literals;

class AdminTest : public ::testing::Test {
 protected:
  void SetUp() override {
    corpus_ = dir_.path() / "corpus";
    std::filesystem::create_directories(corpus_);
    WriteCorpus(6, 2);
    dir_.Write("operate-token", "operate-secret-1\n");
    dir_.Write("read-token", "read-secret-2\n");
  }

  // `documents` Markdown files of about `kb` KiB each.
  void WriteCorpus(int documents, int kb) {
    for (int d = 0; d < documents; ++d) {
      std::string text = "# Document " + std::to_string(d) + "\n\n";
      for (int s = 0; text.size() < static_cast<size_t>(kb) * 1024; ++s) {
        text += "## Part " + std::to_string(s) + "\n\nThe Control Unit of site " + std::to_string(d) +
                " logs reading " + std::to_string(s) + ". Operators of the Night Shift check it before dawn.\n\n";
      }
      std::ofstream(corpus_ / ("doc" + std::to_string(d) + ".md")) << text;
    }
  }

  // `admin_extra` is appended under `admin:`; without `tokens` the API has none.
  std::string Config(const std::string& admin_extra = "", bool tokens = true) const {
    return "env: atest\n"
           "artifact_root: ./artifacts\n"
           "fleet: { bind: \"tcp://127.0.0.1:*\", heartbeat_ms: 200, liveness: " +
           std::to_string(liveness_ > 0 ? liveness_ : FleetLiveness()) +
           ", wait_for_workers_s: 30 }\n"
           "schedule: { cron: \"0 2 1 1 *\" }\n"
           "run: { cancel_grace_s: 20 }\n"
           "sources:\n"
           "  - { name: corpus, kind: files, root: ./corpus }\n"
           "admin:\n" +
           std::string(tokens ? "  token_file: ./operate-token\n  read_token_file: ./read-token\n" : "") + admin_extra;
  }

  std::string Bin(const char* name) const { return (testing::BinDir() / name).string(); }

  // Starts `serve` with two single-slot local workers; returns once the
  // admin API listens (its address in address_).
  void StartServe(const std::string& admin_extra = "", int workers = 2, bool tokens = true,
                  const std::string& listen = "127.0.0.1:0") {
    dir_.Write("ingest.yaml", Config(admin_extra, tokens));
    ++serves_;
    const std::string tag = "serve" + std::to_string(serves_);
    serve_ = std::make_unique<Subprocess>(
        std::vector<std::string>{Bin("ingest-coordinator"), "serve", "--config", (dir_.path() / "ingest.yaml").string(),
                                 "--admin-listen", listen, "--local-workers", std::to_string(workers),
                                 "--local-worker-slots", "1"},
        dir_.path() / (tag + ".out"), dir_.path() / (tag + ".err"));
    serve_err_ = dir_.path() / (tag + ".err");
    serve_out_ = dir_.path() / (tag + ".out");
    address_ = WaitForLine(serve_err_, "admin: listening on ", Scaled(20s));
    address_ = address_.substr(0, address_.find(' '));
    ASSERT_FALSE(address_.empty()) << ReadAll(serve_err_);
    fleet_endpoint_ = WaitForLine(serve_err_, "fleet: listening on ", Scaled(20s));
    ASSERT_FALSE(fleet_endpoint_.empty()) << ReadAll(serve_err_);
    // Workers join before the first test call needs them.
    if (workers > 0) {
      ASSERT_FALSE(WaitForLine(serve_err_, "joined", Scaled(20s)).empty()) << ReadAll(serve_err_);
    }
  }

  // A worker process of its own, for tests that need the fleet empty at
  // first; stopped with the fixture.
  void StartWorker() {
    // Appended, not "w" + ...: GCC 12 warns falsely (-Wrestrict) on that once inlined.
    std::string id = "w";
    id += std::to_string(workers_.size() + 1);
    workers_.push_back(
        std::make_unique<Subprocess>(std::vector<std::string>{Bin("ingest-worker"), "--connect", fleet_endpoint_,
                                                              "--id", id, "--heartbeat-ms", "200"},
                                     dir_.path() / (id + ".out"), dir_.path() / (id + ".err")));
  }

  // A self-signed server.crt and server.key for localhost and 127.0.0.1.
  void MakeServerCertificate() {
    Subprocess openssl({"/usr/bin/openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj",
                        "/CN=localhost", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1", "-keyout",
                        (dir_.path() / "server.key").string(), "-out", (dir_.path() / "server.crt").string()},
                       dir_.path() / "openssl.out", dir_.path() / "openssl.err");
    ASSERT_EQ(openssl.Wait(Scaled(60s)), 0) << openssl.Stderr();
  }

  std::shared_ptr<grpc::Channel> Channel() const {
    return grpc::CreateChannel(address_, grpc::InsecureChannelCredentials());
  }
  std::unique_ptr<admin::Admin::Stub> Stub() const { return admin::Admin::NewStub(Channel()); }

  // A context with `token` ("" for none) and a deadline for unary calls.
  static std::unique_ptr<grpc::ClientContext> Context(const std::string& token = "operate-secret-1",
                                                      bool unary = true) {
    auto context = std::make_unique<grpc::ClientContext>();
    if (!token.empty()) context->AddMetadata("authorization", "Bearer " + token);
    if (unary) context->set_deadline(std::chrono::system_clock::now() + Scaled(10s));
    return context;
  }

  admin::Run Trigger(const admin::RunFlags& flags = {}, const std::string& request_id = "") {
    admin::TriggerRunRequest request;
    *request.mutable_flags() = flags;
    request.set_request_id(request_id);
    admin::TriggerRunResponse response;
    auto context = Context();
    grpc::Status status = Stub()->TriggerRun(context.get(), request, &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return response.run();
  }

  admin::Run Get(const std::string& run_id) {
    admin::GetRunRequest request;
    request.set_run_id(run_id);
    admin::Run run;
    auto context = Context();
    grpc::Status status = Stub()->GetRun(context.get(), request, &run);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return run;
  }

  // Every event of a watch until the stream ends; `on_event` may stop it
  // early by returning false.
  std::vector<admin::RunEvent> WatchAll(const std::string& run_id,
                                        const std::function<bool(const admin::RunEvent&)>& on_event = nullptr) {
    auto context = Context("read-secret-2", false);
    context->set_deadline(std::chrono::system_clock::now() + Scaled(180s));
    admin::WatchRunRequest request;
    request.set_run_id(run_id);
    auto reader = Stub()->WatchRun(context.get(), request);
    std::vector<admin::RunEvent> events;
    admin::RunEvent event;
    while (reader->Read(&event)) {
      events.push_back(event);
      if (on_event && !on_event(event)) {
        context->TryCancel();
        break;
      }
    }
    reader->Finish();
    return events;
  }

  // The run, once ended (via a watch).
  admin::Run WaitEnded(const std::string& run_id) {
    std::vector<admin::RunEvent> events = WatchAll(run_id);
    EXPECT_FALSE(events.empty());
    if (events.empty()) return {};
    const admin::RunEvent& last = events.back();
    return last.has_run_ended() ? last.run_ended() : last.snapshot();
  }

  // ingestctl against the server, with the operate token unless `args`
  // names another; returns its exit code, output in ctl_out_ / ctl_err_.
  int Ctl(std::vector<std::string> args, std::chrono::milliseconds timeout = Scaled(120s)) {
    ++ctls_;
    std::vector<std::string> argv = {Bin("ingestctl"), "--server", address_};
    if (std::find(args.begin(), args.end(), "--token-file") == args.end()) {
      argv.insert(argv.end(), {"--token-file", (dir_.path() / "operate-token").string()});
    }
    argv.insert(argv.end(), args.begin(), args.end());
    const auto out = dir_.path() / ("ctl" + std::to_string(ctls_) + ".out");
    const auto err = dir_.path() / ("ctl" + std::to_string(ctls_) + ".err");
    Subprocess ctl(argv, out, err, {"NO_COLOR=1"});
    const int code = ctl.Wait(timeout);
    ctl_out_ = ReadAll(out);
    ctl_err_ = ReadAll(err);
    return code;
  }

  void StopServe() {
    if (!serve_) return;
    serve_->Signal(SIGTERM);
    EXPECT_EQ(serve_->Wait(Scaled(60s)), 0) << ReadAll(serve_err_);
    serve_.reset();
  }

  void TearDown() override {
    StopServe();
    workers_.clear();  // ~Subprocess ends a worker that is still up
  }

  TempDir dir_;
  // fleet.liveness when set; FleetLiveness() otherwise.
  int liveness_ = 0;
  std::filesystem::path corpus_;
  std::unique_ptr<Subprocess> serve_;
  std::filesystem::path serve_err_;
  std::filesystem::path serve_out_;
  std::string address_;
  std::string fleet_endpoint_;
  std::vector<std::unique_ptr<Subprocess>> workers_;
  std::string ctl_out_;
  std::string ctl_err_;
  int serves_ = 0;
  int ctls_ = 0;
};

}  // namespace ingest::testing
