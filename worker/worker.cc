#include "worker/worker.h"

#include <spdlog/spdlog.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <csignal>
#include <cstring>
#include <deque>
#include <mutex>
#include <optional>
#include <random>
#include <thread>
#include <vector>
#include <zmq.hpp>

#include "common/curve_keys.h"
#include "common/fleet_protocol.h"
#include "common/result_seal.h"
#include "common/signals.h"
#include "common/zmq_frame.h"
#include "worker/health_file.h"
#include "worker/task_runner.h"

namespace ingest {
namespace {

using Clock = std::chrono::steady_clock;

constexpr char kResultsEndpoint[] = "inproc://worker-results";
constexpr char kMonitorEndpoint[] = "inproc://worker-monitor";
constexpr auto kPollInterval = std::chrono::milliseconds(100);
// How long a draining worker waits for the coordinator to answer its DRAIN.
constexpr auto kDrainAnswerWait = std::chrono::seconds(5);
constexpr char kVersion[] = "ingestfleet-worker/" INGEST_VERSION;

// Batches accepted from the coordinator and not yet started.
// Guarded by its own mutex; shared by the main thread and the task threads.
class TaskQueue {
 public:
  void Push(std::vector<Task> batch) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      batches_.push_back(std::move(batch));
    }
    cv_.notify_one();
  }
  // Blocks until a batch or Close(); false after Close() with nothing left.
  bool Pop(std::vector<Task>* batch) {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [&] { return closed_ || !batches_.empty(); });
    if (batches_.empty()) return false;
    *batch = std::move(batches_.front());
    batches_.pop_front();
    return true;
  }
  // Stops the queue and returns the ids of the tasks that never started.
  std::vector<std::string> Close() {
    std::vector<std::string> unstarted;
    {
      std::lock_guard<std::mutex> lock(mu_);
      closed_ = true;
      for (const std::vector<Task>& batch : batches_) {
        for (const Task& t : batch) unstarted.push_back(t.task_id());
      }
      batches_.clear();
    }
    cv_.notify_all();
    return unstarted;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::vector<Task>> batches_;  // Guarded by mu_.
  bool closed_ = false;                    // Guarded by mu_.
};

// Runs batches from the queue, one task after the other, and pushes each
// batch's results to the main thread as one RESULTS frame over its own
// inproc PUSH socket (sockets never cross threads), preceded by a frame
// with their count.
void TaskThread(zmq::context_t& context, TaskQueue& queue, const ExtractLimits& limits, const std::string& worker_id) {
  zmq::socket_t push(context, zmq::socket_type::push);
  push.set(zmq::sockopt::linger, -1);
  push.connect(kResultsEndpoint);
  std::vector<Task> batch;
  while (queue.Pop(&batch)) {
    // From here on a drain waits for these tasks instead of handing them back.
    spdlog::debug("worker {}: started {} tasks", worker_id, batch.size());
    Envelope envelope;
    for (const Task& task : batch) {
      TaskResult* result = envelope.mutable_results()->add_results();
      *result = RunTask(task, limits);
      SealResult(task, result);
    }
    const uint32_t count = static_cast<uint32_t>(batch.size());
    zmq::message_t frame = OwnedFrame(EncodeEnvelope(std::move(envelope)));
    push.send(zmq::buffer(&count, sizeof count), zmq::send_flags::sndmore);
    push.send(frame, zmq::send_flags::none);
  }
}

std::string DefaultWorkerId() {
  char host[256] = {0};
  ::gethostname(host, sizeof host - 1);
  return std::string(host) + "-" + std::to_string(::getpid());
}

// 64 random bits in hex: unique per process for all practical purposes.
std::string NewSession() {
  std::random_device random;
  const uint64_t bits = (static_cast<uint64_t>(random()) << 32) ^ random();
  return fmt::format("{:016x}", bits);
}

// Owns the DEALER socket and the results PULL socket; single-threaded.
class WorkerLoop {
 public:
  WorkerLoop(const WorkerOptions& options, zmq::context_t& context)
      : options_(options),
        context_(context),
        dealer_(context, zmq::socket_type::dealer),
        results_(context, zmq::socket_type::pull),
        monitor_(context, zmq::socket_type::pair) {}

  int Run() {
    dealer_.set(zmq::sockopt::routing_id, options_.id);
    // Reconnect with backoff from 1 s doubling to 32 s while the coordinator is away.
    dealer_.set(zmq::sockopt::reconnect_ivl, 1000);
    dealer_.set(zmq::sockopt::reconnect_ivl_max, 32000);
    dealer_.set(zmq::sockopt::maxmsgsize, kMaxFrameBytes);
    if (!options_.curve_server_key.empty()) {
      dealer_.set(zmq::sockopt::curve_serverkey, CurveKeyBytes(options_.curve_server_key));
      dealer_.set(zmq::sockopt::curve_publickey, CurveKeyBytes(options_.curve_public_key));
      dealer_.set(zmq::sockopt::curve_secretkey, CurveKeyBytes(options_.curve_secret_key));
    }
    // Whether the coordinator is connected decides how long exit waits for
    // queued frames; a refused CURVE handshake is otherwise invisible.
    if (zmq_socket_monitor(dealer_.handle(), kMonitorEndpoint,
                           ZMQ_EVENT_CONNECTED | ZMQ_EVENT_DISCONNECTED | ZMQ_EVENT_HANDSHAKE_FAILED_AUTH |
                               ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL) != 0) {
      throw zmq::error_t();
    }
    monitor_.connect(kMonitorEndpoint);
    dealer_.connect(options_.connect);
    results_.bind(kResultsEndpoint);

    std::vector<std::thread> threads;
    for (uint32_t i = 0; i < options_.slots; ++i) {
      threads.emplace_back(TaskThread, std::ref(context_), std::ref(queue_), std::cref(options_.limits),
                           std::cref(options_.id));
    }
    SendReady();
    spdlog::info("worker {}: connecting to {} with {} slots", options_.id, options_.connect, options_.slots);

    int exit_code = Loop();

    queue_.Close();
    for (auto& t : threads) t.join();
    // Results of tasks that finished during shutdown.
    ForwardResults();
    // Queued frames get 5 s to reach a connected coordinator; for a gone one
    // they are worthless (a restarted coordinator refuses foreign results).
    ReadMonitor();
    dealer_.set(zmq::sockopt::linger, connected_ ? 5000 : 0);
    spdlog::info("worker {}: stopped after {} tasks", options_.id, completed_);
    return exit_code;
  }

 private:
  int Loop() {
    auto heartbeat = std::chrono::milliseconds(options_.heartbeat_ms);
    auto next_heartbeat = Clock::now() + heartbeat;
    last_heard_ = Clock::now();
    bool draining = false;
    Clock::time_point drain_deadline;
    while (true) {
      if (CaughtStopSignal() != 0 && !draining) {
        draining = true;
        // The coordinator answers at once when it is up; a gone one is
        // waited for a while, not forever.
        drain_deadline = Clock::now() + std::max<Clock::duration>(5 * heartbeat, kDrainAnswerWait);
        Envelope drain;
        drain.mutable_drain();  // a body even with nothing to hand back: it is the drain itself
        for (std::string& id : queue_.Close()) {
          drain.mutable_drain()->add_unstarted(std::move(id));
          --running_;
        }
        Send(drain);
        spdlog::info("worker {}: draining ({} running, {} handed back)", options_.id, running_,
                     drain.drain().unstarted_size());
      }
      // A TASK the coordinator sent before it read our DRAIN may still be on
      // its way: stay until the coordinator says it holds nothing of ours
      // (it answers the DRAIN then), to hand such a task back, not lose it.
      // Nothing more can come from a coordinator that is not connected.
      if (draining && running_ == 0 && (drain_acknowledged_ || !connected_ || Clock::now() >= drain_deadline)) {
        return 0;
      }
      if (rejected_) return 1;

      zmq::pollitem_t items[] = {{dealer_.handle(), 0, ZMQ_POLLIN, 0},
                                 {results_.handle(), 0, ZMQ_POLLIN, 0},
                                 {monitor_.handle(), 0, ZMQ_POLLIN, 0}};
      try {
        zmq::poll(items, 3, kPollInterval);
      } catch (const zmq::error_t& e) {
        if (e.num() != EINTR) throw;
        continue;  // a signal: the top of the loop handles it
      }
      if (items[0].revents & ZMQ_POLLIN) ReceiveFromCoordinator(draining);
      if (items[1].revents & ZMQ_POLLIN) ForwardResults();
      if (items[2].revents & ZMQ_POLLIN) ReadMonitor();

      auto now = Clock::now();
      MaybeWriteHealth(now, draining, heartbeat);
      // A drained worker stays silent: a heartbeat after the coordinator let
      // it go would be answered with ANNOUNCE and bring it back.
      if (now >= next_heartbeat && !(draining && running_ == 0)) {
        Envelope beat;
        beat.mutable_heartbeat();
        Send(beat);
        next_heartbeat = now + heartbeat;
        // Silence means the coordinator restarted or was busy merging: announce again.
        if (!draining && now - last_heard_ > 3 * heartbeat) {
          SendReady();
          last_heard_ = now;
        }
      }
    }
  }

  // Rewrites the health file once a second, and at once when the answer
  // of a probe would change.
  void MaybeWriteHealth(Clock::time_point now, bool draining, std::chrono::milliseconds heartbeat) {
    if (options_.health_file.empty()) return;
    const bool heard_once = last_from_coordinator_ != Clock::time_point{};
    const bool connected = connected_ && heard_once && now - last_from_coordinator_ <= 3 * heartbeat;
    if (now < next_health_ && connected == health_connected_ && draining == health_draining_) return;
    next_health_ = now + std::chrono::seconds(1);
    health_connected_ = connected;
    health_draining_ = draining;
    const WallTime wall_now = std::chrono::system_clock::now();
    const WallTime heard = heard_once
                               ? wall_now - std::chrono::duration_cast<WallTime::duration>(now - last_from_coordinator_)
                               : WallTime();
    Status written = WriteWorkerHealth(options_.health_file, {.worker_id = options_.id,
                                                              .coordinator = options_.connect,
                                                              .connected = connected,
                                                              .draining = draining,
                                                              .tasks_running = static_cast<uint32_t>(running_),
                                                              .updated = wall_now,
                                                              .last_heard = heard});
    if (!written.ok() && !health_warned_) {
      spdlog::warn("worker {}: {}; probes will fail", options_.id, written.message());
      health_warned_ = true;
    }
  }

  void SendReady() {
    Envelope ready;
    ready.mutable_ready()->set_worker_id(options_.id);
    ready.mutable_ready()->set_slots(options_.slots);
    ready.mutable_ready()->set_version(kVersion);
    ready.mutable_ready()->set_session(session_);
    Send(ready);
  }

  void Send(const Envelope& envelope) {
    std::string frame = EncodeEnvelope(envelope);
    // DEALER queues while disconnected; a full queue drops rather than blocks.
    (void)dealer_.send(zmq::buffer(frame), zmq::send_flags::dontwait);
  }

  void ReceiveFromCoordinator(bool draining) {
    zmq::message_t message;
    while (dealer_.recv(message, zmq::recv_flags::dontwait)) {
      last_heard_ = Clock::now();
      last_from_coordinator_ = last_heard_;
      Result<Envelope> envelope = DecodeEnvelope(message.to_string_view());
      if (!envelope.ok()) {
        spdlog::warn("worker {}: dropped a frame from the coordinator: {}", options_.id, envelope.status().message());
        // Silence would leave its tasks to their timeout: run what can be
        // read, refuse the rest at once.
        if (std::optional<SalvagedTasks> salvaged = SalvageTasks(message.to_string_view(), envelope.status())) {
          Envelope refusals;
          for (TaskResult& refused : salvaged->refused) *refusals.mutable_results()->add_results() = std::move(refused);
          if (!salvaged->refused.empty()) Send(refusals);
          if (!salvaged->tasks.empty()) Accept(std::move(salvaged->tasks), draining);
        }
        continue;
      }
      switch (envelope->body_case()) {
        case Envelope::kTask: {
          std::vector<Task> batch;
          batch.push_back(std::move(*envelope->mutable_task()));
          Accept(std::move(batch), draining);
          break;
        }
        case Envelope::kTasks: {
          auto& tasks = *envelope->mutable_tasks()->mutable_tasks();
          Accept(std::vector<Task>(std::make_move_iterator(tasks.begin()), std::make_move_iterator(tasks.end())),
                 draining);
          break;
        }
        case Envelope::kAnnounce:
          if (draining) break;  // leaving: not to be counted as a worker again
          spdlog::info("worker {}: the coordinator does not know this worker; announcing it again", options_.id);
          SendReady();
          break;
        case Envelope::kDrain:
          drain_acknowledged_ = draining;
          break;
        case Envelope::kReject:
          spdlog::error("worker {}: rejected by the coordinator: {}", options_.id, envelope->reject().reason());
          rejected_ = true;
          break;
        default:
          break;  // heartbeats only refresh last_heard_
      }
    }
  }

  // Queues a batch to run, or hands it back at once while draining.
  void Accept(std::vector<Task> batch, bool draining) {
    if (draining) {
      Envelope drain;
      for (const Task& task : batch) drain.mutable_drain()->add_unstarted(task.task_id());
      Send(drain);
      return;
    }
    running_ += static_cast<int>(batch.size());
    spdlog::debug("worker {}: accepted {} tasks ({} running)", options_.id, batch.size(), running_);
    queue_.Push(std::move(batch));
  }

  // Monitor events: a 6-byte frame (event, value), then the endpoint.
  void ReadMonitor() {
    zmq::message_t event;
    while (monitor_.recv(event, zmq::recv_flags::dontwait)) {
      zmq::message_t address;
      if (event.more()) (void)monitor_.recv(address, zmq::recv_flags::dontwait);
      uint16_t id = 0;
      uint32_t value = 0;
      if (event.size() >= 6) {
        std::memcpy(&id, event.data(), 2);
        std::memcpy(&value, static_cast<const char*>(event.data()) + 2, 4);
      }
      if (id == ZMQ_EVENT_CONNECTED || id == ZMQ_EVENT_DISCONNECTED) {
        connected_ = id == ZMQ_EVENT_CONNECTED;
      } else if (id == ZMQ_EVENT_HANDSHAKE_FAILED_AUTH) {
        spdlog::error(
            "worker {}: the coordinator refused this worker's CURVE key (ZAP status {}); add {} to its "
            "fleet.curve.authorized_keys_file",
            options_.id, value, options_.curve_public_key);
      } else {
        spdlog::error(
            "worker {}: CURVE handshake with {} failed: is the coordinator's public key right, and does it "
            "use CURVE?",
            options_.id, address.to_string());
      }
    }
  }

  void ForwardResults() {
    zmq::message_t count;
    while (results_.recv(count, zmq::recv_flags::dontwait)) {
      zmq::message_t message;
      (void)results_.recv(message, zmq::recv_flags::none);  // the second part of an atomic message
      uint32_t results = 0;
      if (count.size() == sizeof results) std::memcpy(&results, count.data(), sizeof results);
      (void)dealer_.send(message, zmq::send_flags::none);
      running_ -= static_cast<int>(results);
      completed_ += results;
    }
  }

  const WorkerOptions& options_;
  // Tells this process from an earlier one under the same id (Ready.session).
  const std::string session_ = NewSession();
  zmq::context_t& context_;
  zmq::socket_t dealer_;
  zmq::socket_t results_;
  zmq::socket_t monitor_;  // connection events of dealer_
  bool connected_ = false;
  // For the health file: the last frame from the coordinator, {} for none
  // yet (last_heard_ is also moved by a re-announce), and what the file said
  // last.
  Clock::time_point last_from_coordinator_{};
  Clock::time_point next_health_{};
  bool health_connected_ = false;
  bool health_draining_ = false;
  bool health_warned_ = false;
  TaskQueue queue_;
  int running_ = 0;  // accepted and not yet answered
  bool drain_acknowledged_ = false;
  uint64_t completed_ = 0;
  bool rejected_ = false;
  Clock::time_point last_heard_;
};

}  // namespace

int RunWorker(const WorkerOptions& input) {
  WorkerOptions options = input;
  if (options.connect.empty()) {
    spdlog::error("worker: --connect is required");
    return 2;
  }
  if (options.slots == 0) options.slots = std::max(1u, std::thread::hardware_concurrency());
  if (options.id.empty()) options.id = DefaultWorkerId();

  CatchStopSignals();

  try {
    zmq::context_t context(1);
    int code = 0;
    {
      WorkerLoop loop(options, context);
      code = loop.Run();
    }
    return code;
  } catch (const zmq::error_t& e) {
    spdlog::error("worker {}: ZeroMQ error: {}", options.id, e.what());
    return 1;
  }
}

}  // namespace ingest
