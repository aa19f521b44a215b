#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/config.h"
#include "common/ids.h"
#include "common/status.h"
#include "coordinator/fleet/dispatcher.h"
#include "coordinator/fleet/fleet.h"
#include "coordinator/fleet/task_handler.h"
#include "proto/fleet.pb.h"
#include "proto/manifest.pb.h"

namespace zmq {
class context_t;
class message_t;
class socket_t;
}  // namespace zmq

namespace ingest {

// Routes the fleet protocol (SPEC §8) between the run and the workers. Owns
// the worker-facing ROUTER socket and the connection side of every worker
// (its version, when it was last heard, whether its connection is gone);
// what each worker holds is the dispatcher's. Every method must be called on
// the thread that created the broker, which is the thread that runs the job:
// the broker has no thread of its own. The liveness clock only runs inside
// Execute, WaitForWorkers and Idle, so time spent merging between passes
// does not make workers look dead. No ZeroMQ exception leaves this class.
class Broker {
 public:
  // `context` must outlive the broker; so must `clock` and `view` (where
  // the workers are published; may be null).
  Broker(zmq::context_t& context, FleetConfig fleet, RetryConfig retry, const Clock& clock, FleetView* view = nullptr);
  ~Broker();
  Broker(const Broker&) = delete;
  Broker& operator=(const Broker&) = delete;

  // Binds the ROUTER. "tcp://127.0.0.1:*" binds a free port; endpoint()
  // tells which. Unavailable when the address is taken.
  Status Bind(const std::string& endpoint);
  const std::string& endpoint() const { return endpoint_; }

  // Returns once `count` workers are ready. Unavailable after `timeout`,
  // Cancelled once `cancelled` (optional) says so.
  Status WaitForWorkers(uint32_t count, std::chrono::seconds timeout, const std::function<bool()>& cancelled = {});
  // Keeps the fleet connected between runs (heartbeats, joins, departures)
  // until `until` or until `stop` says so, asked after every message and at
  // least every `check_every` (a stop that no message brings, such as a
  // process that exited, is seen that late at most).
  Status Idle(Clock::TimePoint until, const std::function<bool()>& stop,
              std::chrono::milliseconds check_every = std::chrono::milliseconds(100));

  // Dispatches the tasks of `order` (indexes into the handler's plan) in
  // that order and returns when each has a final result (see Dispatcher).
  // Unavailable when no worker is connected for fleet.wait_for_workers_s
  // while tasks wait; Cancelled when `hooks.cancelled` said so (after the
  // running tasks answered or their grace ran out).
  Status Execute(const std::vector<size_t>& order, TaskHandler& handler, PassMetrics* metrics,
                 const ExecuteHooks& hooks = {});

  size_t ready_workers() const { return dispatcher_.ready_workers(); }
  // Frames dropped, by why: they did not parse, came in several parts, from
  // an unknown peer or spoke another protocol version.
  const DroppedFrames& dropped_frames() const { return dropped_; }
  // Results refused because their attempt was no longer the current one.
  uint64_t stale_results() const { return dispatcher_.stale_results(); }

 private:
  // The connection side of one worker.
  struct Peer {
    std::string version;
    std::string session;  // Ready.session; "" from workers that predate it
    std::string address;
    Clock::TimePoint last_seen;
    bool gone = false;  // a send found the peer disconnected
  };

  // Polls the socket for up to the poll interval and handles what arrived.
  Status PollOnce(std::chrono::milliseconds max_wait);
  // Heartbeats when due, declares silent, gone and drained workers dead.
  void Maintain();
  // Receives and handles every frame waiting on the socket.
  void Receive();
  // `frame` is the one it came in (it knows the peer's address).
  void HandleEnvelope(const WorkerId& peer, Envelope envelope, const zmq::message_t& frame);
  // False when the peer's connection is gone (it is reaped next) or its
  // queue is full: the broker never blocks on a peer that does not read.
  bool SendTo(const WorkerId& peer, Envelope envelope);
  // Counts a dropped frame; logs the first few of each reason and then
  // every 10,000th, so a flood of bogus frames does not flood the log.
  void Drop(DropReason reason, const WorkerId& peer, const std::string& why);
  void Heartbeat();
  void ReapDeadWorkers();
  // The liveness clock restarts: nobody listened while the run merged.
  void RefreshLiveness();
  // Publishes the workers to view_ when due (or `now_too`).
  void PublishWorkers(bool now_too = false);

  zmq::context_t& context_;
  std::unique_ptr<zmq::socket_t> router_;
  FleetConfig fleet_;
  const Clock& clock_;
  Dispatcher dispatcher_;
  std::string endpoint_;
  std::map<WorkerId, Peer> peers_;
  Clock::TimePoint next_heartbeat_;
  FleetView* view_ = nullptr;
  Clock::TimePoint next_publish_;
  DroppedFrames dropped_{};
};

}  // namespace ingest
