#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <zmq.hpp>

#include "common/config.h"
#include "common/status.h"
#include "coordinator/fleet/zap_authenticator.h"
#include "proto/fleet.pb.h"
#include "proto/manifest.pb.h"

namespace ingest {

// What the broker asks of the pass being executed. Called on the broker's
// thread only.
class TaskHandler {
 public:
  virtual ~TaskHandler() = default;
  // The task at `index` of the plan, without attempt (the broker sets it).
  // An error fails that task permanently.
  virtual Result<Task> BuildTask(size_t index) = 0;
  // The final outcome of the task at `index`: success, a permanent error, or
  // a transient one after the retries ran out. Called exactly once per task.
  virtual void OnResult(size_t index, TaskResult result) = 0;
  // The earliest time the task at `index` may be dispatched (a rate limit);
  // asked each time it reaches the front of the queue, first dispatches and
  // retries alike. BuildTask follows when the answer is not in the future.
  virtual std::chrono::steady_clock::time_point NotBefore(size_t /*index*/, std::chrono::steady_clock::time_point now) {
    return now;
  }
  // One dispatch of the task at `index` is over: a result (final or to be
  // retried) came back, or its worker was lost.
  virtual void OnAttemptEnded(size_t /*index*/) {}
};

// Routes task messages between the run engine and the fleet. Owns the
// worker-facing ROUTER socket: every method must be called on the thread
// that created the broker. The liveness clock only runs inside Execute,
// WaitForWorkers and Idle, so time spent merging between passes does not
// make workers look dead.
class Broker {
 public:
  Broker(zmq::context_t& context, FleetConfig fleet, RetryConfig retry);
  ~Broker();

  // Binds the ROUTER. "tcp://127.0.0.1:*" binds a free port; endpoint()
  // tells which. Unavailable when the address is taken.
  Status Bind(const std::string& endpoint);
  const std::string& endpoint() const { return endpoint_; }

  // Returns once `count` workers are ready. Unavailable after `timeout`.
  Status WaitForWorkers(uint32_t count, std::chrono::seconds timeout);
  // Keeps the fleet connected between runs (heartbeats, joins, departures)
  // until `until` or until `stop` says so.
  Status Idle(std::chrono::steady_clock::time_point until, const std::function<bool()>& stop);

  // Dispatches the tasks of `order` (indexes into the handler's plan) in
  // that order, at most `slots` per worker, and returns when each has a
  // final result. Dead workers' and timed-out
  // tasks are requeued with attempt + 1; transient errors are retried with
  // exponential backoff up to retry.attempts. Unavailable when no worker is
  // connected for fleet.wait_for_workers_s while tasks wait.
  Status Execute(const std::vector<size_t>& order, TaskHandler& handler, PassMetrics* metrics);

  size_t ready_workers() const;
  // Frames dropped because they did not parse, were too large or came from
  // an unknown peer.
  uint64_t dropped_frames() const { return dropped_frames_; }
  // CURVE handshakes refused (a worker key not authorized, or no CURVE).
  uint64_t refused_handshakes() const { return zap_ ? zap_->refused() : 0; }

 private:
  struct Lease;
  struct WorkerState;
  class Execution;

  // One turn outside an execution: frames, heartbeats, dead workers.
  Status Tick();
  // Receives and handles every frame waiting on the socket.
  void Receive(Execution* execution);
  void HandleEnvelope(const std::string& peer, Envelope envelope, Execution* execution);
  void SendTo(const std::string& peer, const Envelope& envelope);
  void Heartbeat();
  // Declares silent workers dead; returns their leases to `execution`.
  void ReapDeadWorkers(Execution* execution);

  zmq::context_t& context_;
  zmq::socket_t router_;
  FleetConfig fleet_;
  RetryConfig retry_;
  std::string endpoint_;
  std::unique_ptr<ZapAuthenticator> zap_;  // with fleet.curve only
  std::map<std::string, std::unique_ptr<WorkerState>> workers_;  // by routing id
  std::chrono::steady_clock::time_point next_heartbeat_;
  uint64_t dropped_frames_ = 0;
};

}  // namespace ingest
