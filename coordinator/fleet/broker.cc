#include "coordinator/fleet/broker.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <zmq.hpp>

#include "common/curve_keys.h"
#include "common/fleet_protocol.h"
#include "common/run_log.h"
#include "common/zmq_frame.h"

namespace ingest {
namespace {

using std::chrono::milliseconds;

constexpr auto kMaxPollWait = milliseconds(100);
constexpr auto kProgressEvery = std::chrono::seconds(5);
constexpr auto kProgressHookEvery = milliseconds(500);
constexpr auto kPublishEvery = milliseconds(250);
// Input bytes one batch may carry (its first task may be heavier): a few
// large documents go out one by one, so none waits behind another.
constexpr uint64_t kBatchMaxWeight = uint64_t{4} << 20;

// Where a peer's connection comes from, as ZeroMQ saw it; "" when it does
// not say (inproc, or an old libzmq).
std::string PeerAddress(const zmq::message_t& frame) {
  const char* address = zmq_msg_gets(frame.handle(), "Peer-Address");
  return address == nullptr ? "" : address;
}

}  // namespace

Broker::Broker(zmq::context_t& context, FleetConfig fleet, RetryConfig retry, const Clock& clock, FleetView* view)
    : context_(context),
      router_(std::make_unique<zmq::socket_t>(context, zmq::socket_type::router)),
      fleet_(std::move(fleet)),
      clock_(clock),
      dispatcher_(retry, std::chrono::seconds(fleet_.task_timeout_s), clock,
                  [this](const WorkerId& worker, std::vector<Task> tasks) {
                    Envelope envelope;
                    for (Task& task : tasks) *envelope.mutable_tasks()->add_tasks() = std::move(task);
                    return SendTo(worker, std::move(envelope));
                  }),
      view_(view) {
  dispatcher_.set_batching(fleet_.batch_max_tasks, kBatchMaxWeight);
  // Sends to a vanished worker fail instead of vanishing silently.
  router_->set(zmq::sockopt::router_mandatory, 1);
  // A restarted worker with the same id takes over its old identity.
  router_->set(zmq::sockopt::router_handover, 1);
  router_->set(zmq::sockopt::maxmsgsize, kMaxFrameBytes);
  router_->set(zmq::sockopt::linger, 0);
  if (fleet_.curve()) {
    router_->set(zmq::sockopt::curve_server, true);
    router_->set(zmq::sockopt::curve_secretkey, CurveKeyBytes(fleet_.curve_secret_key));
  }
}

Broker::~Broker() = default;

Status Broker::Bind(const std::string& endpoint) {
  try {
    router_->bind(endpoint);
    endpoint_ = router_->get(zmq::sockopt::last_endpoint);
  } catch (const zmq::error_t& e) {
    return Unavailable("fleet bind " + endpoint + ": " + e.what());
  }
  return Status::Ok();
}

bool Broker::SendTo(const WorkerId& peer, Envelope envelope) {
  zmq::message_t frame = OwnedFrame(EncodeEnvelope(std::move(envelope)));
  try {
    // A peer whose queue is full (it stopped reading: a stuck worker, or a
    // stranger that floods and never reads its answers) is not waited for.
    if (!router_->send(zmq::buffer(peer.value), zmq::send_flags::sndmore | zmq::send_flags::dontwait)) {
      spdlog::debug("send to {}: its queue is full", peer.value);
      return false;
    }
    router_->send(frame, zmq::send_flags::none);
    return true;
  } catch (const zmq::error_t& e) {
    // EHOSTUNREACH: the peer disconnected. Reaped on the next pass of the loop.
    if (auto p = peers_.find(peer); p != peers_.end()) p->second.gone = true;
    spdlog::debug("send to {} failed: {}", peer.value, e.what());
    return false;
  }
}

void Broker::Heartbeat() {
  Envelope beat;
  beat.mutable_heartbeat();
  for (const auto& [id, peer] : peers_) SendTo(id, beat);
}

void Broker::Receive() {
  while (true) {
    zmq::message_t identity;
    std::vector<zmq::message_t> frames;
    try {
      if (!router_->recv(identity, zmq::recv_flags::dontwait)) return;
      while (router_->get(zmq::sockopt::rcvmore)) {
        zmq::message_t part;
        if (!router_->recv(part, zmq::recv_flags::dontwait)) break;
        frames.push_back(std::move(part));
      }
    } catch (const zmq::error_t& e) {
      if (e.num() != EINTR) spdlog::warn("fleet receive: {}", e.what());
      return;
    }
    const WorkerId peer{identity.to_string()};
    if (frames.size() != 1) {
      Drop(DropReason::kMultipart, peer, "a message of " + std::to_string(frames.size()) + " frames");
      continue;
    }
    Result<Envelope> envelope = DecodeEnvelope(frames[0].to_string_view());
    if (!envelope.ok()) {
      if (envelope.status().code() == StatusCode::kFailedPrecondition) {
        Drop(DropReason::kProtocolVersion, peer, envelope.status().message());
        Envelope reject;
        reject.mutable_reject()->set_reason("coordinator speaks fleet " + envelope.status().message());
        SendTo(peer, std::move(reject));
      } else {
        Drop(DropReason::kUnparsable, peer, envelope.status().message());
      }
      continue;
    }
    HandleEnvelope(peer, std::move(*envelope), frames[0]);
  }
}

void Broker::HandleEnvelope(const WorkerId& id, Envelope envelope, const zmq::message_t& frame) {
  auto it = peers_.find(id);
  if (envelope.body_case() == Envelope::kReady) {
    const Ready& ready = envelope.ready();
    if (it != peers_.end() && !ready.session().empty() && !it->second.session.empty() &&
        ready.session() != it->second.session) {
      // A new process under the id (a container restarted within the
      // liveness): what the old one held is lost, and waiting for its
      // lease would stall the pass.
      const WorkerLoad* load = dispatcher_.load(id);
      spdlog::warn("worker {} restarted (a new process under its id); requeueing {} tasks", id.value,
                   load == nullptr ? 0 : load->in_flight.size());
      dispatcher_.RemoveWorker(id, "worker " + id.value + " restarted");
      peers_.erase(it);
      it = peers_.end();
    }
    if (it == peers_.end()) {
      it = peers_.emplace(id, Peer{}).first;
      spdlog::info("worker {} joined: {} slots, {}", id.value, ready.slots(), ready.version());
    }
    it->second.version = ready.version();
    it->second.session = ready.session();
    it->second.address = PeerAddress(frame);
    it->second.gone = false;
    dispatcher_.AdmitWorker(id, ready.slots());
  }
  if (it == peers_.end()) {
    // Not introduced by READY: nothing from it is trusted, but a worker of
    // a coordinator that restarted is asked to introduce itself (the answer
    // is one small frame to the sender, so a flood gains nothing).
    Drop(DropReason::kUnknownPeer, id, "no READY; asked it to announce itself");
    Envelope announce;
    announce.mutable_announce();
    SendTo(id, std::move(announce));
    return;
  }
  it->second.last_seen = clock_.Now();
  switch (envelope.body_case()) {
    case Envelope::kResult:
      dispatcher_.OnResult(id, std::move(*envelope.mutable_result()));
      break;
    case Envelope::kResults:
      for (TaskResult& result : *envelope.mutable_results()->mutable_results()) {
        dispatcher_.OnResult(id, std::move(result));
      }
      break;
    case Envelope::kDrain: {
      const WorkerLoad* load = dispatcher_.load(id);
      if (load != nullptr && !load->draining) spdlog::info("worker {} is draining", id.value);
      std::vector<TaskId> unstarted;
      for (const std::string& task : envelope.drain().unstarted()) unstarted.push_back(TaskId{task});
      dispatcher_.DrainWorker(id, unstarted);
      break;
    }
    default:
      break;  // READY, HEARTBEAT and PROGRESS only refresh last_seen
  }
}

void Broker::Drop(DropReason reason, const WorkerId& peer, const std::string& why) {
  constexpr uint64_t kLoggedFirst = 5;
  constexpr uint64_t kLoggedEvery = 10000;
  const uint64_t count = ++dropped_[static_cast<size_t>(reason)];
  if (count > kLoggedFirst && count % kLoggedEvery != 0) return;
  if (count > kLoggedFirst) {
    spdlog::warn("dropped {} {} frames so far, the last from peer '{}': {}", count, DropReasonName(reason), peer.value,
                 why);
    return;
  }
  const std::string more = count == kLoggedFirst ? " (more of these are counted, and logged every 10,000th)" : "";
  if (reason == DropReason::kProtocolVersion) {
    spdlog::error("rejected peer '{}': {}{}", peer.value, why, more);
  } else if (reason == DropReason::kUnknownPeer) {
    spdlog::warn("dropped a frame from unknown peer '{}' ({}){}", peer.value, why, more);
  } else {
    spdlog::warn("dropped a frame from peer '{}': {}{}", peer.value, why, more);
  }
}

void Broker::ReapDeadWorkers() {
  const Clock::TimePoint now = clock_.Now();
  const auto limit = milliseconds(static_cast<int64_t>(fleet_.heartbeat_ms) * fleet_.liveness);
  for (auto it = peers_.begin(); it != peers_.end();) {
    const WorkerId& id = it->first;
    const Peer& peer = it->second;
    const WorkerLoad* load = dispatcher_.load(id);
    const bool silent = now - peer.last_seen > limit;
    const bool drained = load != nullptr && load->draining && load->in_flight.empty();
    if (!silent && !peer.gone && !drained) {
      ++it;
      continue;
    }
    if (drained && !silent && !peer.gone) {
      spdlog::info("worker {} left after draining", id.value);
      // It holds nothing and will be sent nothing: it may exit now.
      Envelope done;
      done.mutable_drain();
      SendTo(id, std::move(done));
    } else {
      spdlog::warn("worker {} is dead ({}); requeueing {} tasks", id.value,
                   peer.gone ? "disconnected" : "missed " + std::to_string(fleet_.liveness) + " heartbeats",
                   load == nullptr ? 0 : load->in_flight.size());
    }
    dispatcher_.RemoveWorker(id, "worker " + id.value + " lost");
    it = peers_.erase(it);
  }
}

Status Broker::PollOnce(milliseconds max_wait) {
  zmq::pollitem_t items[] = {{router_->handle(), 0, ZMQ_POLLIN, 0}};
  try {
    zmq::poll(items, 1, max_wait);
  } catch (const zmq::error_t& e) {
    if (e.num() != EINTR) return Internal(std::string("fleet poll: ") + e.what());
  }
  Receive();
  return Status::Ok();
}

void Broker::Maintain() {
  const Clock::TimePoint now = clock_.Now();
  if (now >= next_heartbeat_) {
    Heartbeat();
    next_heartbeat_ = now + milliseconds(fleet_.heartbeat_ms);
  }
  ReapDeadWorkers();
  PublishWorkers();
}

void Broker::PublishWorkers(bool now_too) {
  const Clock::TimePoint now = clock_.Now();
  if (view_ == nullptr || (!now_too && now < next_publish_)) return;
  next_publish_ = now + kPublishEvery;
  const WallTime wall_now = std::chrono::system_clock::now();
  std::vector<WorkerInfo> workers;
  for (const auto& [id, peer] : peers_) {
    const WorkerLoad* load = dispatcher_.load(id);
    if (load == nullptr) continue;
    workers.push_back({.id = id,
                       .peer_address = peer.address,
                       .version = peer.version,
                       .slots = load->slots,
                       .tasks_in_flight = static_cast<uint32_t>(load->in_flight.size()),
                       .tasks_done = load->tasks_done,
                       .last_heard = wall_now - std::chrono::duration_cast<WallTime::duration>(now - peer.last_seen),
                       .draining = load->draining});
  }
  view_->Publish(std::move(workers), dispatcher_.queued());
}

void Broker::RefreshLiveness() {
  const Clock::TimePoint now = clock_.Now();
  for (auto& [id, peer] : peers_) peer.last_seen = now;
}

Status Broker::WaitForWorkers(uint32_t count, std::chrono::seconds timeout, const std::function<bool()>& cancelled) {
  const Clock::TimePoint deadline = clock_.Now() + timeout;
  RefreshLiveness();
  Clock::TimePoint next_log = clock_.Now();
  while (ready_workers() < count) {
    if (cancelled && cancelled()) return Cancelled("cancelled while waiting for workers");
    const Clock::TimePoint now = clock_.Now();
    if (now >= deadline) {
      return Unavailable("only " + std::to_string(ready_workers()) + " of fleet.min_workers=" + std::to_string(count) +
                         " workers connected to " + endpoint_ +
                         " within fleet.wait_for_workers_s=" + std::to_string(timeout.count()));
    }
    if (now >= next_log) {
      spdlog::info("waiting for workers on {}: {}/{} ready", endpoint_, ready_workers(), count);
      next_log = now + kProgressEvery;
    }
    INGEST_RETURN_IF_ERROR(PollOnce(kMaxPollWait));
    Maintain();
  }
  return Status::Ok();
}

Status Broker::Idle(Clock::TimePoint until, const std::function<bool()>& stop, milliseconds check_every) {
  while (clock_.Now() < until && !stop()) {
    INGEST_RETURN_IF_ERROR(PollOnce(std::min(check_every, kMaxPollWait)));
    Maintain();
  }
  return Status::Ok();
}

Status Broker::Execute(const std::vector<size_t>& order, TaskHandler& handler, PassMetrics* metrics,
                       const ExecuteHooks& hooks) {
  dispatcher_.Begin(order, handler);
  RefreshLiveness();
  // When the fleet became empty with work left; max() while it has workers.
  Clock::TimePoint fleetless_since = Clock::TimePoint::max();
  Clock::TimePoint next_hook = clock_.Now();
  // Once cancelled: when the running tasks' grace ends.
  std::optional<Clock::TimePoint> cancel_deadline;
  Status status;
  while (!dispatcher_.done()) {
    if (!cancel_deadline && hooks.cancelled && hooks.cancelled()) {
      cancel_deadline = clock_.Now() + hooks.cancel_grace;
      const size_t dropped = dispatcher_.StopDispatching();
      LogEvent(spdlog::level::warn, {.status = "cancelling", .count = dispatcher_.in_flight()},
               fmt::format("cancelling: {} tasks not dispatched; waiting up to {} s for the {} running", dropped,
                           hooks.cancel_grace.count(), dispatcher_.in_flight()));
    }
    if (cancel_deadline && (dispatcher_.in_flight() == 0 || clock_.Now() >= *cancel_deadline)) {
      status =
          Cancelled(fmt::format("cancelled with {} of {} tasks done", dispatcher_.completed(), dispatcher_.total()));
      break;
    }
    dispatcher_.Dispatch();
    if (dispatcher_.done()) break;
    status = PollOnce(kMaxPollWait);
    if (!status.ok()) break;
    Maintain();
    dispatcher_.ExpireLeases();

    const Clock::TimePoint now = clock_.Now();
    if (ready_workers() == 0 && dispatcher_.has_waiting_work()) {
      if (fleetless_since == Clock::TimePoint::max()) {
        fleetless_since = now;
        spdlog::warn("no workers connected; waiting up to {} s", fleet_.wait_for_workers_s);
      } else if (now - fleetless_since > std::chrono::seconds(fleet_.wait_for_workers_s)) {
        status = Unavailable("no workers connected to " + endpoint_ +
                             " for fleet.wait_for_workers_s=" + std::to_string(fleet_.wait_for_workers_s) + " with " +
                             std::to_string(dispatcher_.total() - dispatcher_.completed()) + " tasks left");
        break;
      }
    } else {
      fleetless_since = Clock::TimePoint::max();
    }
    if (hooks.progress && now >= next_hook) {
      hooks.progress(dispatcher_.completed(), dispatcher_.total());
      next_hook = now + kProgressHookEvery;
    }
  }
  if (hooks.progress) hooks.progress(dispatcher_.completed(), dispatcher_.total());
  dispatcher_.End(metrics);
  PublishWorkers(true);
  return status;
}

}  // namespace ingest
