// Fleet dispatch: no-op task throughput of the real broker over TCP loopback
// with 1, 2, 8, 32, 64 and 256 workers, and the coordinator's CPU time per task.
// The workers are echo peers speaking the real protocol (READY, then a
// RESULT for every TASK), so the figure is the coordinator's and ZeroMQ's
// cost alone, with no document work.

#include <benchmark/benchmark.h>
#include <time.h>

#include <atomic>
#include <thread>
#include <vector>
#include <zmq.hpp>

#include "common/fleet_protocol.h"
#include "coordinator/fleet/fleet.h"

namespace ingest {
namespace {

constexpr size_t kTasksPerRound = 2000;

double ThreadCpuSeconds() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

// Answers every batch of tasks at once with empty results.
void EchoWorker(zmq::context_t& context, const std::string& endpoint, int id, uint32_t slots,
                const std::atomic<bool>& stop) {
  zmq::socket_t dealer(context, zmq::socket_type::dealer);
  dealer.set(zmq::sockopt::routing_id, "echo-" + std::to_string(id));
  dealer.set(zmq::sockopt::linger, 0);
  dealer.connect(endpoint);
  Envelope ready;
  ready.mutable_ready()->set_worker_id("echo-" + std::to_string(id));
  ready.mutable_ready()->set_slots(slots);
  std::string frame = EncodeEnvelope(ready);
  dealer.send(zmq::buffer(frame), zmq::send_flags::none);
  while (!stop) {
    zmq::pollitem_t items[] = {{dealer.handle(), 0, ZMQ_POLLIN, 0}};
    zmq::poll(items, 1, std::chrono::milliseconds(50));
    zmq::message_t message;
    while (dealer.recv(message, zmq::recv_flags::dontwait)) {
      Result<Envelope> in = DecodeEnvelope(message.to_string_view());
      if (!in.ok() || !in->has_tasks()) continue;
      Envelope out;
      for (const Task& task : in->tasks().tasks()) {
        TaskResult* result = out.mutable_results()->add_results();
        result->set_task_id(task.task_id());
        result->set_attempt(task.attempt());
      }
      std::string reply = EncodeEnvelope(out);
      dealer.send(zmq::buffer(reply), zmq::send_flags::none);
    }
  }
}

class NoopTasks : public TaskHandler {
 public:
  Result<Task> BuildTask(size_t index) override {
    Task task;
    task.set_task_id("noop-" + std::to_string(index));
    task.set_pass(Pass::PASS_A);
    task.mutable_document()->set_source_id("doc_" + std::to_string(index));
    task.mutable_document()->set_path("docs/" + std::to_string(index) + ".md");
    return task;
  }
  void OnResult(size_t, TaskResult) override { ++results; }
  size_t results = 0;
};

void BM_NoopDispatch(benchmark::State& state) {
  const int workers = static_cast<int>(state.range(0));
  FleetConfig config;
  config.batch_max_tasks = static_cast<uint32_t>(state.range(1));
  config.heartbeat_ms = 1000;
  config.liveness = 30;
  Result<std::unique_ptr<Fleet>> started = Fleet::Start(config, RetryConfig{}, {.bind = "tcp://127.0.0.1:*"});
  if (!started.ok()) return state.SkipWithError("bind failed");
  Fleet& fleet = **started;
  zmq::context_t worker_context(1);
  std::atomic<bool> stop{false};
  std::vector<std::thread> threads;
  threads.reserve(workers);
  for (int i = 0; i < workers; ++i) {
    threads.emplace_back(EchoWorker, std::ref(worker_context), fleet.endpoint(), i, 2, std::cref(stop));
  }
  if (!fleet.WaitForWorkers(workers, std::chrono::seconds(30)).ok()) {
    stop = true;
    for (auto& t : threads) t.join();
    return state.SkipWithError("workers did not join");
  }
  std::vector<size_t> order(kTasksPerRound);
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  double cpu = 0;
  for (auto _ : state) {
    NoopTasks handler;
    PassMetrics metrics;
    const double before = ThreadCpuSeconds();
    Status done = fleet.Execute(order, handler, &metrics);
    cpu += ThreadCpuSeconds() - before;
    if (!done.ok() || handler.results != order.size()) state.SkipWithError("execution failed");
  }
  stop = true;
  for (auto& t : threads) t.join();
  const double tasks = static_cast<double>(state.iterations() * kTasksPerRound);
  state.SetItemsProcessed(static_cast<int64_t>(tasks));
  state.counters["coordinator_cpu_us_per_task"] = cpu / tasks * 1e6;
}
// Arguments: workers, fleet.batch_max_tasks (1: one task per frame, as
// before batches; 64: the default).
BENCHMARK(BM_NoopDispatch)
    ->ArgsProduct({{1, 2, 8, 32, 64, 256}, {1, 64}})
    ->ArgNames({"workers", "batch"})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

}  // namespace
}  // namespace ingest

BENCHMARK_MAIN();
