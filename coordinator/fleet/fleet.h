#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/config.h"
#include "common/ids.h"
#include "common/status.h"
#include "coordinator/fleet/task_handler.h"
#include "proto/manifest.pb.h"

namespace ingest {

// One connected worker, as the admin API shows it.
struct WorkerInfo {
  WorkerId id;
  std::string peer_address;  // "10.0.0.7"; "" when ZeroMQ does not say
  std::string version;
  uint32_t slots = 0;
  uint32_t tasks_in_flight = 0;
  uint64_t tasks_done = 0;
  WallTime last_heard;
  bool draining = false;
};

// The workers of a fleet as last published by its broker, for other
// threads (the admin API). Thread-safe.
class FleetView {
 public:
  // `tasks_queued`: tasks waiting for a free slot (queued or backing off
  // before a retry), for the queue-depth metric.
  void Publish(std::vector<WorkerInfo> workers, uint64_t tasks_queued);
  std::vector<WorkerInfo> Workers() const;
  uint64_t tasks_queued() const;

 private:
  mutable std::mutex mu_;
  std::vector<WorkerInfo> workers_;  // Guarded by mu_.
  uint64_t tasks_queued_ = 0;        // Guarded by mu_.
};

// How a fleet is brought up.
struct FleetOptions {
  // The ROUTER endpoint; "tcp://127.0.0.1:*" picks a free port.
  std::string bind;
  // Worker processes the coordinator starts itself (--local-workers), with
  // `local_worker_slots` slots each (0: one per core).
  int local_workers = 0;
  unsigned local_worker_slots = 0;
  // Start the local workers when workers are first waited for, not at once:
  // a run whose passes are all carried forward then starts none.
  bool local_workers_on_demand = false;
  // With fleet.curve and local workers: where their key pair is written.
  // They are authorized for this fleet only.
  std::filesystem::path local_keys_dir;
  // Where the broker publishes its workers (at most four times a second);
  // may be null. Must outlive the fleet.
  FleetView* view = nullptr;
};

// Why the broker dropped a frame: the `reason` label of
// ingestfleet_fleet_dropped_frames_total and of the end-of-run log line.
enum class DropReason { kMultipart, kUnparsable, kProtocolVersion, kUnknownPeer };
inline constexpr size_t kDropReasons = 4;
// "multipart", "unparsable", "protocol_version", "unknown_peer".
const char* DropReasonName(DropReason reason);
// Frames dropped, indexed by DropReason.
using DroppedFrames = std::array<uint64_t, kDropReasons>;

// What the fleet refused, for the end-of-run log.
struct FleetCounters {
  DroppedFrames dropped_frames{};
  uint64_t refused_handshakes = 0;  // CURVE keys not authorized
};

// The workers connected to one coordinator (SPEC §2) and everything that
// speaks to them: the ZeroMQ context, the CURVE authentication handler, the
// broker with its dispatcher, and the worker processes started for
// --local-workers. Above this class the coordinator knows nothing of
// ZeroMQ: no ZeroMQ type or exception leaves fleet/. A run brings up its own
// fleet; the serve daemon keeps one up between runs. Not thread-safe: use it
// on the thread that started it.
class Fleet {
 public:
  // Binds the endpoint and starts the local workers. Unavailable when the
  // address is taken; errors of the key files name them.
  static Result<std::unique_ptr<Fleet>> Start(FleetConfig config, const RetryConfig& retry, const FleetOptions& options,
                                              const Clock& clock = Clock::Steady());
  // Drains the local workers, then closes the broker, the authentication
  // handler and the context, in that order (a context outliving its sockets
  // would block).
  ~Fleet();
  Fleet(const Fleet&) = delete;
  Fleet& operator=(const Fleet&) = delete;

  // The bound endpoint, e.g. "tcp://0.0.0.0:5555".
  const std::string& endpoint() const;
  // Returns once `count` workers are ready. Unavailable after `timeout`;
  // Cancelled as soon as `cancelled` (optional) says so.
  Status WaitForWorkers(uint32_t count, std::chrono::seconds timeout, const std::function<bool()>& cancelled = {});
  // Keeps the workers connected while no run is in progress, until `until`
  // or until `stop` says so.
  Status Idle(Clock::TimePoint until, const std::function<bool()>& stop);
  // Runs the tasks of `order` on the fleet (see Broker::Execute).
  Status Execute(const std::vector<size_t>& order, TaskHandler& handler, PassMetrics* metrics,
                 const ExecuteHooks& hooks = {});
  size_t ready_workers() const;
  FleetCounters counters() const;

 private:
  struct Parts;
  explicit Fleet(std::unique_ptr<Parts> parts);
  // Starts the local workers not started yet.
  Status StartLocalWorkers();
  std::unique_ptr<Parts> parts_;
};

// tcp://*:P and tcp://0.0.0.0:P as processes on this host reach them.
std::string LoopbackEndpoint(const std::string& endpoint);

}  // namespace ingest
