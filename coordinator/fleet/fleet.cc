#include "coordinator/fleet/fleet.h"

#include <spdlog/spdlog.h>

#include <utility>
#include <zmq.hpp>

#include "common/atomic_file.h"
#include "common/curve_keys.h"
#include "coordinator/fleet/broker.h"
#include "coordinator/fleet/local_workers.h"
#include "coordinator/fleet/zap_authenticator.h"

namespace ingest {
namespace {

constexpr auto kLocalDrainGrace = std::chrono::seconds(10);

// With fleet.curve, --local-workers get a key pair of their own, authorized
// alongside the configured ones; returns their extra flags.
Result<std::vector<std::string>> PrepareLocalWorkerKeys(const std::filesystem::path& dir, FleetConfig& config) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return ErrnoStatus(ec.value(), dir.string());
  INGEST_ASSIGN_OR_RETURN(CurveKeyPair keys, GenerateCurveKeyPair());
  INGEST_RETURN_IF_ERROR(WriteCurveKeyPair(dir / "local-worker", keys));
  INGEST_RETURN_IF_ERROR(WriteFileAtomic(dir / "coordinator.pub", config.curve_public_key + "\n"));
  config.curve_authorized_keys.push_back(keys.public_key);
  return std::vector<std::string>{"--curve-server-key", (dir / "coordinator.pub").string(), "--curve-secret-key",
                                  (dir / "local-worker.key").string()};
}

}  // namespace

// Declared in destruction order, last first: the local workers drain while
// the broker still answers them; the context goes after every socket.
struct Fleet::Parts {
  explicit Parts(const Clock& c) : clock(c) {}
  const Clock& clock;
  zmq::context_t context{1};
  std::unique_ptr<ZapAuthenticator> zap;  // with fleet.curve only
  std::unique_ptr<Broker> broker;
  LocalWorkers local;
  // Local workers not started yet (FleetOptions::local_workers_on_demand).
  int local_pending = 0;
  unsigned local_slots = 0;
  std::vector<std::string> local_args;
};

Fleet::Fleet(std::unique_ptr<Parts> parts) : parts_(std::move(parts)) {}

Fleet::~Fleet() {
  // Local workers drain while the broker still answers them: it
  // acknowledges each DRAIN at once, so none waits a heartbeat for a task
  // that might still be on its way. What is left after the grace is killed.
  // Their exits are looked for every few milliseconds: no message says that
  // a process is gone, and a run ends when its workers are.
  if (parts_->local.Reap()) return;
  parts_->local.Signal();
  (void)parts_->broker->Idle(
      parts_->clock.Now() + kLocalDrainGrace, [this] { return parts_->local.Reap(); }, std::chrono::milliseconds(5));
}

Result<std::unique_ptr<Fleet>> Fleet::Start(FleetConfig config, const RetryConfig& retry, const FleetOptions& options,
                                            const Clock& clock) {
  std::vector<std::string> local_args;
  if (config.curve() && options.local_workers > 0) {
    INGEST_ASSIGN_OR_RETURN(local_args, PrepareLocalWorkerKeys(options.local_keys_dir, config));
  }
  auto parts = std::make_unique<Parts>(clock);
  try {
    if (config.curve()) {
      // Bound before the fleet socket exists, so no handshake finds nobody
      // answering (libzmq would then let it through).
      parts->zap = std::make_unique<ZapAuthenticator>(parts->context, config.curve_authorized_keys);
      spdlog::info("fleet: CURVE authentication on: coordinator public key {}, {} authorized worker keys",
                   config.curve_public_key, config.curve_authorized_keys.size());
    }
    parts->broker = std::make_unique<Broker>(parts->context, config, retry, clock, options.view);
  } catch (const zmq::error_t& e) {
    return Internal(std::string("fleet: ZeroMQ: ") + e.what());
  }
  INGEST_RETURN_IF_ERROR(parts->broker->Bind(options.bind.empty() ? config.bind : options.bind));
  spdlog::info("fleet: listening on {}", parts->broker->endpoint());
  parts->local_pending = options.local_workers;
  parts->local_slots = options.local_worker_slots;
  parts->local_args = std::move(local_args);
  auto fleet = std::unique_ptr<Fleet>(new Fleet(std::move(parts)));
  if (!options.local_workers_on_demand) INGEST_RETURN_IF_ERROR(fleet->StartLocalWorkers());
  return fleet;
}

Status Fleet::StartLocalWorkers() {
  if (parts_->local_pending == 0) return Status::Ok();
  const int count = std::exchange(parts_->local_pending, 0);
  return parts_->local.Start(count, LoopbackEndpoint(parts_->broker->endpoint()), parts_->local_slots,
                             parts_->local_args);
}

const std::string& Fleet::endpoint() const { return parts_->broker->endpoint(); }

Status Fleet::WaitForWorkers(uint32_t count, std::chrono::seconds timeout, const std::function<bool()>& cancelled) {
  INGEST_RETURN_IF_ERROR(StartLocalWorkers());
  return parts_->broker->WaitForWorkers(count, timeout, cancelled);
}

Status Fleet::Idle(Clock::TimePoint until, const std::function<bool()>& stop) {
  return parts_->broker->Idle(until, stop);
}

Status Fleet::Execute(const std::vector<size_t>& order, TaskHandler& handler, PassMetrics* metrics,
                      const ExecuteHooks& hooks) {
  return parts_->broker->Execute(order, handler, metrics, hooks);
}

void FleetView::Publish(std::vector<WorkerInfo> workers, uint64_t tasks_queued) {
  std::lock_guard<std::mutex> lock(mu_);
  workers_ = std::move(workers);
  tasks_queued_ = tasks_queued;
}

std::vector<WorkerInfo> FleetView::Workers() const {
  std::lock_guard<std::mutex> lock(mu_);
  return workers_;
}

uint64_t FleetView::tasks_queued() const {
  std::lock_guard<std::mutex> lock(mu_);
  return tasks_queued_;
}

size_t Fleet::ready_workers() const { return parts_->broker->ready_workers(); }

const char* DropReasonName(DropReason reason) {
  switch (reason) {
    case DropReason::kMultipart:
      return "multipart";
    case DropReason::kUnparsable:
      return "unparsable";
    case DropReason::kProtocolVersion:
      return "protocol_version";
    case DropReason::kUnknownPeer:
      return "unknown_peer";
  }
  return "unknown";
}

FleetCounters Fleet::counters() const {
  return {.dropped_frames = parts_->broker->dropped_frames(),
          .refused_handshakes = parts_->zap ? parts_->zap->refused() : 0};
}

std::string LoopbackEndpoint(const std::string& endpoint) {
  // A wildcard bind is reached through loopback by local workers.
  for (std::string_view any : {"tcp://0.0.0.0:", "tcp://*:"}) {
    if (endpoint.starts_with(any)) return "tcp://127.0.0.1:" + endpoint.substr(any.size());
  }
  return endpoint;
}

}  // namespace ingest
