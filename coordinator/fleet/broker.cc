#include "coordinator/fleet/broker.h"

#include <algorithm>
#include <cmath>
#include <optional>
#include <deque>
#include <random>
#include <set>

#include <spdlog/spdlog.h>

#include "common/curve_keys.h"
#include "common/fleet_protocol.h"
#include "common/pass.h"

namespace ingest {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

constexpr auto kMaxPollWait = milliseconds(100);
constexpr auto kProgressEvery = std::chrono::seconds(5);

TaskResult FailedResult(const std::string& task_id, uint32_t attempt, ErrorClass error_class,
                        const std::string& kind, const std::string& message) {
  TaskResult r;
  r.set_task_id(task_id);
  r.set_attempt(attempt);
  r.mutable_error()->set_error_class(error_class);
  r.mutable_error()->set_kind(kind);
  r.mutable_error()->set_message(message);
  return r;
}

}  // namespace

struct Broker::WorkerState {
  std::string id;
  uint32_t slots = 1;
  std::string version;
  bool draining = false;
  std::set<std::string> in_flight;  // task ids
  Clock::time_point last_seen;
  bool gone = false;  // a send found the peer disconnected
};

struct Broker::Lease {
  size_t index = 0;
  uint32_t attempt = 0;
  std::string worker;
  Clock::time_point deadline;
};

// The state of one Execute call: the queue, the leases and the counters.
class Broker::Execution {
 public:
  Execution(const std::vector<size_t>& order, TaskHandler& handler, const RetryConfig& retry)
      : handler_(handler),
        retry_(retry),
        pending_(order.begin(), order.end()),
        rng_(std::random_device{}()),
        total_(order.size()) {
    const size_t slots = order.empty() ? 0 : *std::max_element(order.begin(), order.end()) + 1;
    attempt_.assign(slots, 0);
    failures_.assign(slots, 0);
  }

  bool done() const { return completed_ == total_; }
  bool has_waiting_work() const { return !pending_.empty() || !delayed_.empty() || !leases_.empty(); }

  // Moves retries whose backoff has passed to the front of the queue.
  void PromoteDelayed(Clock::time_point now) {
    while (!delayed_.empty() && delayed_.begin()->first <= now) {
      pending_.push_front(delayed_.begin()->second);
      delayed_.erase(delayed_.begin());
    }
  }

  // Hands out tasks while some worker has a free slot.
  void Dispatch(Broker& broker, Clock::time_point now) {
    while (!pending_.empty()) {
      WorkerState* best = nullptr;
      for (auto& [id, w] : broker.workers_) {
        if (w->draining || w->gone || w->in_flight.size() >= w->slots) continue;
        if (best == nullptr || w->slots - w->in_flight.size() > best->slots - best->in_flight.size()) {
          best = w.get();
        }
      }
      if (best == nullptr) return;
      size_t index = pending_.front();
      pending_.pop_front();
      if (const Clock::time_point allowed = handler_.NotBefore(index, now); allowed > now) {
        delayed_.emplace(allowed, index);
        continue;
      }
      Result<Task> task = handler_.BuildTask(index);
      if (!task.ok()) {
        Finish(index, FailedResult("", attempt_[index], ERROR_CLASS_PERMANENT, "plan", task.status().message()));
        continue;
      }
      task->set_attempt(++attempt_[index]);
      Lease lease{index, task->attempt(), best->id, now + std::chrono::seconds(broker.fleet_.task_timeout_s)};
      best->in_flight.insert(task->task_id());
      leases_[task->task_id()] = lease;
      Envelope envelope;
      *envelope.mutable_task() = std::move(*task);
      broker.SendTo(best->id, envelope);
    }
  }

  void OnResult(Broker& broker, const std::string& peer, TaskResult result) {
    auto it = leases_.find(result.task_id());
    if (it == leases_.end() || it->second.attempt != result.attempt() || it->second.worker != peer) {
      spdlog::info("refused a stale result of {} attempt {} from {}", result.task_id(), result.attempt(), peer);
      return;
    }
    Lease lease = it->second;
    leases_.erase(it);
    if (auto w = broker.workers_.find(peer); w != broker.workers_.end()) w->second->in_flight.erase(result.task_id());
    handler_.OnAttemptEnded(lease.index);
    ++executed_;
    if (result.has_error() && result.error().error_class() == ERROR_CLASS_TRANSIENT &&
        ++failures_[lease.index] < retry_.attempts) {
      ++retried_;
      auto delay = Backoff(failures_[lease.index]);
      spdlog::warn("task {} attempt {} failed ({}), retrying in {} ms: {}", result.task_id(), result.attempt(),
                   result.error().kind(), delay.count(), result.error().message());
      delayed_.emplace(Clock::now() + delay, lease.index);
      return;
    }
    Finish(lease.index, std::move(result));
  }

  // Takes a task back from a worker that died, timed out or drained.
  // `counts_as_failure` is false for tasks a draining worker never started.
  void Requeue(Broker& broker, const std::string& task_id, bool counts_as_failure, const std::string& why) {
    auto it = leases_.find(task_id);
    if (it == leases_.end()) return;
    Lease lease = it->second;
    leases_.erase(it);
    if (auto w = broker.workers_.find(lease.worker); w != broker.workers_.end()) w->second->in_flight.erase(task_id);
    handler_.OnAttemptEnded(lease.index);
    ++requeued_;
    if (counts_as_failure && ++failures_[lease.index] >= retry_.attempts) {
      Finish(lease.index, FailedResult(task_id, lease.attempt, ERROR_CLASS_TRANSIENT, "worker_lost",
                                       why + ", " + std::to_string(failures_[lease.index]) + " times"));
      return;
    }
    pending_.push_front(lease.index);
  }

  void RequeueTimedOut(Broker& broker, Clock::time_point now) {
    std::vector<std::string> expired;
    for (const auto& [id, lease] : leases_) {
      if (now > lease.deadline) expired.push_back(id);
    }
    for (const std::string& id : expired) {
      spdlog::warn("task {} exceeded task_timeout_s={}; requeued", id, broker.fleet_.task_timeout_s);
      Requeue(broker, id, true, "timed out");
    }
  }

  std::vector<std::string> LeasesOf(const std::string& worker) const {
    std::vector<std::string> ids;
    for (const auto& [id, lease] : leases_) {
      if (lease.worker == worker) ids.push_back(id);
    }
    return ids;
  }

  void FillMetrics(PassMetrics* metrics) const {
    metrics->set_tasks_total(static_cast<uint32_t>(total_));
    metrics->set_tasks_executed(static_cast<uint32_t>(executed_));
    metrics->set_tasks_retried(static_cast<uint32_t>(retried_));
    metrics->set_tasks_requeued(static_cast<uint32_t>(requeued_));
  }

  size_t completed() const { return completed_; }
  size_t total() const { return total_; }
  size_t in_flight() const { return leases_.size(); }

 private:
  void Finish(size_t index, TaskResult result) {
    ++completed_;
    handler_.OnResult(index, std::move(result));
  }

  milliseconds Backoff(uint32_t failures) {
    double base = static_cast<double>(retry_.backoff_initial_ms) * std::pow(2.0, failures - 1);
    base = std::min(base, static_cast<double>(retry_.backoff_max_ms));
    if (retry_.jitter) base *= std::uniform_real_distribution<double>(0.5, 1.0)(rng_);
    return milliseconds(static_cast<int64_t>(base));
  }

  TaskHandler& handler_;
  const RetryConfig& retry_;
  std::deque<size_t> pending_;
  std::multimap<Clock::time_point, size_t> delayed_;
  std::map<std::string, Lease> leases_;  // by task id
  std::vector<uint32_t> attempt_;        // last attempt number dispatched
  std::vector<uint32_t> failures_;       // transient failures so far
  std::mt19937 rng_;
  size_t total_ = 0;
  size_t completed_ = 0;
  uint64_t executed_ = 0;
  uint64_t retried_ = 0;
  uint64_t requeued_ = 0;
};

Broker::Broker(zmq::context_t& context, FleetConfig fleet, RetryConfig retry)
    : context_(context), router_(context, zmq::socket_type::router), fleet_(std::move(fleet)), retry_(retry) {
  // Sends to a vanished worker fail instead of vanishing silently.
  router_.set(zmq::sockopt::router_mandatory, 1);
  // A restarted worker with the same id takes over its old identity.
  router_.set(zmq::sockopt::router_handover, 1);
  router_.set(zmq::sockopt::maxmsgsize, kMaxFrameBytes);
  router_.set(zmq::sockopt::linger, 0);
  if (fleet_.curve()) {
    zap_ = std::make_unique<ZapAuthenticator>(context_, fleet_.curve_authorized_keys);
    router_.set(zmq::sockopt::curve_server, true);
    router_.set(zmq::sockopt::curve_secretkey, CurveKeyBytes(fleet_.curve_secret_key));
    spdlog::info("fleet: CURVE authentication on: coordinator public key {}, {} authorized worker keys",
                 fleet_.curve_public_key, fleet_.curve_authorized_keys.size());
  }
}

Broker::~Broker() = default;

Status Broker::Bind(const std::string& endpoint) {
  try {
    router_.bind(endpoint);
    endpoint_ = router_.get(zmq::sockopt::last_endpoint);
  } catch (const zmq::error_t& e) {
    return Unavailable("fleet bind " + endpoint + ": " + e.what());
  }
  return Status::Ok();
}

size_t Broker::ready_workers() const {
  size_t n = 0;
  for (const auto& [id, w] : workers_) {
    if (!w->draining && !w->gone) ++n;
  }
  return n;
}

void Broker::SendTo(const std::string& peer, const Envelope& envelope) {
  std::string frame = EncodeEnvelope(envelope);
  try {
    router_.send(zmq::buffer(peer), zmq::send_flags::sndmore);
    router_.send(zmq::buffer(frame), zmq::send_flags::none);
  } catch (const zmq::error_t& e) {
    // EHOSTUNREACH: the peer disconnected. Reaped on the next pass of the loop.
    if (auto w = workers_.find(peer); w != workers_.end()) w->second->gone = true;
    spdlog::debug("send to {} failed: {}", peer, e.what());
  }
}

void Broker::Heartbeat() {
  Envelope beat;
  beat.mutable_heartbeat();
  for (const auto& [id, w] : workers_) SendTo(id, beat);
}

void Broker::Receive(Execution* execution) {
  while (true) {
    zmq::message_t identity;
    if (!router_.recv(identity, zmq::recv_flags::dontwait)) return;
    std::vector<zmq::message_t> frames;
    while (router_.get(zmq::sockopt::rcvmore)) {
      zmq::message_t part;
      if (!router_.recv(part, zmq::recv_flags::dontwait)) break;
      frames.push_back(std::move(part));
    }
    std::string peer = identity.to_string();
    if (frames.size() != 1) {
      ++dropped_frames_;
      spdlog::warn("dropped a message of {} frames from peer '{}'", frames.size(), peer);
      continue;
    }
    Result<Envelope> envelope = DecodeEnvelope(frames[0].to_string_view());
    if (!envelope.ok()) {
      ++dropped_frames_;
      if (envelope.status().code() == StatusCode::kFailedPrecondition) {
        spdlog::error("rejected peer '{}': {}", peer, envelope.status().message());
        Envelope reject;
        reject.mutable_reject()->set_reason("coordinator speaks fleet " + envelope.status().message());
        SendTo(peer, reject);
      } else {
        spdlog::warn("dropped a frame from peer '{}': {}", peer, envelope.status().message());
      }
      continue;
    }
    HandleEnvelope(peer, std::move(*envelope), execution);
  }
}

void Broker::HandleEnvelope(const std::string& peer, Envelope envelope, Execution* execution) {
  auto it = workers_.find(peer);
  if (envelope.body_case() == Envelope::kReady) {
    if (it == workers_.end()) {
      it = workers_.emplace(peer, std::make_unique<WorkerState>()).first;
      it->second->id = peer;
      spdlog::info("worker {} joined: {} slots, {}", peer, envelope.ready().slots(), envelope.ready().version());
    }
    it->second->slots = std::max(1u, envelope.ready().slots());
    it->second->version = envelope.ready().version();
    it->second->gone = false;
  }
  if (it == workers_.end()) {
    // Not introduced by READY: nothing from it is trusted.
    ++dropped_frames_;
    spdlog::warn("dropped a frame from unknown peer '{}' (no READY)", peer);
    return;
  }
  WorkerState& worker = *it->second;
  worker.last_seen = Clock::now();
  switch (envelope.body_case()) {
    case Envelope::kResult:
      if (execution != nullptr) execution->OnResult(*this, peer, std::move(*envelope.mutable_result()));
      break;
    case Envelope::kDrain:
      if (!worker.draining) spdlog::info("worker {} is draining", peer);
      worker.draining = true;
      if (execution != nullptr) {
        for (const std::string& id : envelope.drain().unstarted()) {
          execution->Requeue(*this, id, false, "handed back by draining worker " + peer);
        }
      }
      break;
    default:
      break;  // READY, HEARTBEAT and PROGRESS only refresh last_seen
  }
}

void Broker::ReapDeadWorkers(Execution* execution) {
  const auto now = Clock::now();
  const auto limit = milliseconds(static_cast<int64_t>(fleet_.heartbeat_ms) * fleet_.liveness);
  for (auto it = workers_.begin(); it != workers_.end();) {
    WorkerState& w = *it->second;
    bool silent = now - w.last_seen > limit;
    bool drained = w.draining && w.in_flight.empty();
    if (!silent && !w.gone && !drained) {
      ++it;
      continue;
    }
    if (drained && !silent && !w.gone) {
      spdlog::info("worker {} left after draining", w.id);
    } else {
      spdlog::warn("worker {} is dead ({}); requeueing {} tasks", w.id,
                   w.gone ? "disconnected" : "missed " + std::to_string(fleet_.liveness) + " heartbeats",
                   w.in_flight.size());
    }
    if (execution != nullptr) {
      for (const std::string& id : execution->LeasesOf(w.id)) execution->Requeue(*this, id, true, "worker " + w.id + " lost");
    }
    it = workers_.erase(it);
  }
}

Status Broker::Tick() {
  zmq::pollitem_t items[] = {{router_.handle(), 0, ZMQ_POLLIN, 0}};
  try {
    zmq::poll(items, 1, kMaxPollWait);
  } catch (const zmq::error_t& e) {
    if (e.num() != EINTR) return Internal(std::string("fleet poll: ") + e.what());
  }
  Receive(nullptr);
  const auto now = Clock::now();
  if (now >= next_heartbeat_) {
    Heartbeat();
    next_heartbeat_ = now + milliseconds(fleet_.heartbeat_ms);
  }
  ReapDeadWorkers(nullptr);
  return Status::Ok();
}

Status Broker::WaitForWorkers(uint32_t count, std::chrono::seconds timeout) {
  const auto deadline = Clock::now() + timeout;
  for (auto& [id, w] : workers_) w->last_seen = Clock::now();
  auto next_log = Clock::now();
  while (ready_workers() < count) {
    auto now = Clock::now();
    if (now >= deadline) {
      return Unavailable("only " + std::to_string(ready_workers()) + " of fleet.min_workers=" + std::to_string(count) +
                         " workers connected to " + endpoint_ + " within fleet.wait_for_workers_s=" +
                         std::to_string(timeout.count()));
    }
    if (now >= next_log) {
      spdlog::info("waiting for workers on {}: {}/{} ready", endpoint_, ready_workers(), count);
      next_log = now + kProgressEvery;
    }
    INGEST_RETURN_IF_ERROR(Tick());
  }
  return Status::Ok();
}

Status Broker::Idle(std::chrono::steady_clock::time_point until, const std::function<bool()>& stop) {
  while (Clock::now() < until && !stop()) INGEST_RETURN_IF_ERROR(Tick());
  return Status::Ok();
}

Status Broker::Execute(const std::vector<size_t>& order, TaskHandler& handler, PassMetrics* metrics) {
  Execution execution(order, handler, retry_);
  // The liveness clock restarts here: nobody polled while the engine merged.
  for (auto& [id, w] : workers_) w->last_seen = Clock::now();
  // When the fleet became empty with work left; max() while it has workers.
  Clock::time_point fleetless_since = Clock::time_point::max();
  auto next_progress = Clock::now() + kProgressEvery;
  while (!execution.done()) {
    auto now = Clock::now();
    execution.PromoteDelayed(now);
    execution.Dispatch(*this, now);
    if (execution.done()) break;

    zmq::pollitem_t items[] = {{router_.handle(), 0, ZMQ_POLLIN, 0}};
    try {
      zmq::poll(items, 1, kMaxPollWait);
    } catch (const zmq::error_t& e) {
      if (e.num() != EINTR) return Internal(std::string("fleet poll: ") + e.what());
    }
    Receive(&execution);

    now = Clock::now();
    if (now >= next_heartbeat_) {
      Heartbeat();
      next_heartbeat_ = now + milliseconds(fleet_.heartbeat_ms);
    }
    ReapDeadWorkers(&execution);
    execution.RequeueTimedOut(*this, now);

    if (ready_workers() == 0 && execution.has_waiting_work()) {
      if (fleetless_since == Clock::time_point::max()) {
        fleetless_since = now;
        spdlog::warn("no workers connected; waiting up to {} s", fleet_.wait_for_workers_s);
      } else if (now - fleetless_since > std::chrono::seconds(fleet_.wait_for_workers_s)) {
        execution.FillMetrics(metrics);
        return Unavailable("no workers connected to " + endpoint_ + " for fleet.wait_for_workers_s=" +
                           std::to_string(fleet_.wait_for_workers_s) + " with " +
                           std::to_string(execution.total() - execution.completed()) + " tasks left");
      }
    } else {
      fleetless_since = Clock::time_point::max();
    }
    if (now >= next_progress) {
      spdlog::info("{}/{} tasks done, {} running, {} workers", execution.completed(), execution.total(),
                   execution.in_flight(), ready_workers());
      next_progress = now + kProgressEvery;
    }
  }
  execution.FillMetrics(metrics);
  return Status::Ok();
}

}  // namespace ingest
