// Admin API latency: GetRun and ListRuns (a first page of 50, and a page
// deep in the history) against a real AdminServer on TCP loopback, over a
// state store holding 1,000 runs of 6 passes each. Reports the median and
// the 99th percentile of the calls, microseconds, beside Google Benchmark's
// mean.

#include <benchmark/benchmark.h>
#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <random>

#include "common/config.h"
#include "coordinator/admin/admin_server.h"
#include "coordinator/admin/run_registry.h"
#include "coordinator/state/state_store.h"
#include "proto/admin.grpc.pb.h"
#include "tests/testing/testing.h"

namespace ingest {
namespace {

namespace admin = ::ingestfleet::admin::v1;
constexpr int kRuns = 1000;

// One server for every benchmark of the binary.
struct Server {
  Server() {
    config.env = "bench";
    config.state_db = dir.path() / "state.db";
    config.file = dir.path() / "ingest.yaml";
    Result<StateStore> store = StateStore::Open(config.state_db);
    INGEST_CHECK(store.ok());
    for (int i = 0; i < kRuns; ++i) {
      char started[64];
      std::snprintf(started, sizeof started, "2026-%02d-%02dT02:00:%02d.000Z", 1 + i / 28 % 12, 1 + i % 28, i % 60);
      StoredRun run{.run_id = RunId{"run_" + std::to_string(100000 + i)},
                    .env = "bench",
                    .job_id = "job_x",
                    .job_dir = "/jobs/job_x",
                    .trigger = "schedule",
                    .flags = "",
                    .started_at = started,
                    .status = "running"};
      INGEST_CHECK(store->RecordRunStart(run).ok());
      run.status = "completed";
      run.ended_at = started;
      run.exit_code = 0;
      run.summary_json = R"({"run_id":"x","status":"completed","documents":{"processed":5000}})";
      INGEST_CHECK(store->RecordRunEnd(run).ok());
      for (const char* pass : {"A", "B", "C", "D", "E", "F"}) {
        INGEST_CHECK(store->RecordPass(run.run_id, pass, "SUCCESS", started, started, 5000, 0, 5000, "sha").ok());
      }
    }
    registry = std::make_unique<RunRegistry>(config, false, nullptr);
    Result<std::unique_ptr<AdminServer>> started = AdminServer::Start(config.admin, "127.0.0.1:0", *registry);
    INGEST_CHECK(started.ok());
    server = std::move(*started);
    stub = admin::Admin::NewStub(grpc::CreateChannel(server->address(), grpc::InsecureChannelCredentials()));
  }

  testing::TempDir dir;
  Config config;
  std::unique_ptr<RunRegistry> registry;
  std::unique_ptr<AdminServer> server;
  std::unique_ptr<admin::Admin::Stub> stub;
};

Server& TheServer() {
  static Server* server = new Server();  // lives for the process: gRPC threads outlive benchmarks
  return *server;
}

// Times each call and reports p50 / p99 in microseconds.
template <typename Call>
void Percentiles(benchmark::State& state, Call call) {
  std::vector<double> us;
  for (auto _ : state) {
    const auto start = std::chrono::steady_clock::now();
    if (!call()) state.SkipWithError("call failed");
    us.push_back(std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - start).count());
  }
  std::sort(us.begin(), us.end());
  state.counters["p50_us"] = us[us.size() / 2];
  state.counters["p99_us"] = us[std::min(us.size() - 1, us.size() * 99 / 100)];
}

void BM_GetRun(benchmark::State& state) {
  Server& s = TheServer();
  std::mt19937 rng(7);
  Percentiles(state, [&] {
    admin::GetRunRequest request;
    request.set_run_id("run_" + std::to_string(100000 + rng() % kRuns));
    admin::Run run;
    grpc::ClientContext context;
    return s.stub->GetRun(&context, request, &run).ok() && run.passes_size() == 6;
  });
}
BENCHMARK(BM_GetRun)->Iterations(2000)->Unit(benchmark::kMicrosecond);

void BM_ListRunsFirstPage(benchmark::State& state) {
  Server& s = TheServer();
  Percentiles(state, [&] {
    admin::ListRunsRequest request;
    request.set_page_size(50);
    admin::ListRunsResponse response;
    grpc::ClientContext context;
    return s.stub->ListRuns(&context, request, &response).ok() && response.runs_size() == 50;
  });
}
BENCHMARK(BM_ListRunsFirstPage)->Iterations(500)->Unit(benchmark::kMicrosecond);

void BM_ListRunsDeepPage(benchmark::State& state) {
  Server& s = TheServer();
  // The token of page 15 of 20.
  std::string token;
  for (int page = 0; page < 15; ++page) {
    admin::ListRunsRequest request;
    request.set_page_size(50);
    request.set_page_token(token);
    admin::ListRunsResponse response;
    grpc::ClientContext context;
    if (!s.stub->ListRuns(&context, request, &response).ok()) return state.SkipWithError("paging failed");
    token = response.next_page_token();
  }
  Percentiles(state, [&] {
    admin::ListRunsRequest request;
    request.set_page_size(50);
    request.set_page_token(token);
    admin::ListRunsResponse response;
    grpc::ClientContext context;
    return s.stub->ListRuns(&context, request, &response).ok() && response.runs_size() == 50;
  });
}
BENCHMARK(BM_ListRunsDeepPage)->Iterations(500)->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace ingest

BENCHMARK_MAIN();
