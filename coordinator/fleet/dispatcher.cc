#include "coordinator/fleet/dispatcher.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cmath>

namespace ingest {
namespace {

TaskResult FailedResult(const std::string& task_id, uint32_t attempt, ErrorClass error_class, const std::string& kind,
                        const std::string& message) {
  TaskResult r;
  r.set_task_id(task_id);
  r.set_attempt(attempt);
  r.mutable_error()->set_error_class(error_class);
  r.mutable_error()->set_kind(kind);
  r.mutable_error()->set_message(message);
  return r;
}

}  // namespace

Dispatcher::Dispatcher(RetryConfig retry, std::chrono::seconds task_timeout, const Clock& clock, SendTasks send,
                       uint32_t seed)
    : retry_(retry), task_timeout_(task_timeout), clock_(clock), send_(std::move(send)), rng_(seed) {}

void Dispatcher::AdmitWorker(const WorkerId& worker, uint32_t slots) {
  WorkerLoad& load = workers_[worker];
  load.slots = std::max(1u, slots);
  load.unreachable = false;
}

void Dispatcher::DrainWorker(const WorkerId& worker, const std::vector<TaskId>& unstarted) {
  auto it = workers_.find(worker);
  if (it == workers_.end()) return;
  it->second.draining = true;
  // Back to the front of the queue in reverse, so they go out again in the
  // order they first did.
  for (auto task = unstarted.rbegin(); task != unstarted.rend(); ++task) {
    auto lease = leases_.find(*task);
    if (lease == leases_.end() || lease->second.worker != worker) continue;
    Requeue(*task, false, "handed back by draining worker " + worker.value);
  }
}

void Dispatcher::RemoveWorker(const WorkerId& worker, const std::string& why) {
  auto it = workers_.find(worker);
  if (it == workers_.end()) return;
  // Back to the front of the queue last sent first, so they go out again
  // in the order they first did.
  std::vector<std::pair<uint64_t, TaskId>> held;
  for (const TaskId& task : it->second.in_flight) held.emplace_back(leases_.at(task).sent, task);
  std::sort(held.rbegin(), held.rend());
  for (const auto& [sent, task] : held) Requeue(task, true, why);
  workers_.erase(it);
}

size_t Dispatcher::ready_workers() const {
  return static_cast<size_t>(std::count_if(workers_.begin(), workers_.end(),
                                           [](const auto& w) { return !w.second.draining && !w.second.unreachable; }));
}

const WorkerLoad* Dispatcher::load(const WorkerId& worker) const {
  auto it = workers_.find(worker);
  return it == workers_.end() ? nullptr : &it->second;
}

void Dispatcher::Begin(const std::vector<size_t>& order, TaskHandler& handler) {
  handler_ = &handler;
  pending_.assign(order.begin(), order.end());
  delayed_.clear();
  leases_.clear();
  const size_t slots = order.empty() ? 0 : *std::max_element(order.begin(), order.end()) + 1;
  attempt_.assign(slots, 0);
  failures_.assign(slots, 0);
  total_ = order.size();
  completed_ = 0;
  stopped_ = false;
  executed_ = retried_ = requeued_ = 0;
}

uint32_t Dispatcher::BatchCapacity(const WorkerLoad& worker) const {
  return worker.slots + (max_batch_tasks_ > 1 ? 1 : 0);
}

Dispatcher::Workers::iterator Dispatcher::Pick() {
  auto best = workers_.end();
  size_t best_free = 0;
  for (auto it = workers_.begin(); it != workers_.end(); ++it) {
    const WorkerLoad& w = it->second;
    const size_t capacity = BatchCapacity(w);
    if (w.draining || w.unreachable || w.batches.size() >= capacity) continue;
    if (capacity - w.batches.size() > best_free) {
      best = it;
      best_free = capacity - w.batches.size();
    }
  }
  return best;
}

size_t Dispatcher::NextBatchSize() const {
  if (max_batch_tasks_ <= 1) return 1;
  size_t capacity = 0;
  for (const auto& [id, w] : workers_) {
    if (!w.draining && !w.unreachable) capacity += BatchCapacity(w);
  }
  const size_t spread = (pending_.size() + 2 * capacity - 1) / std::max<size_t>(1, 2 * capacity);
  return std::clamp<size_t>(spread, 1, max_batch_tasks_);
}

void Dispatcher::Dispatch() {
  if (handler_ == nullptr || stopped_) return;
  const Clock::TimePoint now = clock_.Now();
  while (!delayed_.empty() && delayed_.begin()->first <= now) {
    pending_.push_front(delayed_.begin()->second);
    delayed_.erase(delayed_.begin());
  }
  while (!pending_.empty()) {
    const auto best = Pick();
    if (best == workers_.end()) return;
    const WorkerId& worker = best->first;
    const size_t size = NextBatchSize();
    const uint64_t batch_id = ++next_batch_;
    std::vector<Task> batch;
    std::vector<TaskId> ids;
    uint64_t weight = 0;
    while (!pending_.empty() && batch.size() < size) {
      const size_t index = pending_.front();
      const uint64_t task_weight = handler_->Weight(index);
      if (!batch.empty() && weight + task_weight > max_batch_weight_) break;
      pending_.pop_front();
      if (const Clock::TimePoint allowed = handler_->NotBefore(index, now); allowed > now) {
        delayed_.emplace(allowed, index);
        continue;
      }
      Result<Task> task = handler_->BuildTask(index);
      if (!task.ok()) {
        Finish(index, FailedResult("", attempt_[index], ERROR_CLASS_PERMANENT, "plan", task.status().message()));
        continue;
      }
      task->set_attempt(++attempt_[index]);
      const TaskId id{task->task_id()};
      leases_[id] = Lease{index, task->attempt(), worker, now + task_timeout_, batch_id, ++next_sent_};
      best->second.in_flight.insert(id);
      weight += task_weight;
      ids.push_back(id);
      batch.push_back(std::move(*task));
    }
    if (batch.empty()) continue;
    best->second.batches[batch_id] = static_cast<uint32_t>(batch.size());
    if (!send_(worker, std::move(batch))) {
      best->second.unreachable = true;
      // Back in reverse, so they go out again in the order they first did.
      for (auto id = ids.rbegin(); id != ids.rend(); ++id) {
        Requeue(*id, false, "worker " + worker.value + " unreachable");
      }
    }
  }
}

void Dispatcher::Release(const TaskId& task, const Lease& lease) {
  auto w = workers_.find(lease.worker);
  if (w == workers_.end()) return;
  w->second.in_flight.erase(task);
  auto batch = w->second.batches.find(lease.batch);
  if (batch != w->second.batches.end() && --batch->second == 0) w->second.batches.erase(batch);
}

void Dispatcher::OnResult(const WorkerId& from, TaskResult result) {
  auto it = leases_.find(TaskId{result.task_id()});
  if (it == leases_.end() || it->second.attempt != result.attempt() || it->second.worker != from) {
    ++stale_results_;
    spdlog::info("refused a stale result of {} attempt {} from {}", result.task_id(), result.attempt(), from.value);
    return;
  }
  const Lease lease = it->second;
  leases_.erase(it);
  Release(TaskId{result.task_id()}, lease);
  if (auto w = workers_.find(from); w != workers_.end()) ++w->second.tasks_done;
  handler_->OnAttemptEnded(lease.index);
  ++executed_;
  if (result.has_error() && result.error().error_class() == ERROR_CLASS_TRANSIENT &&
      ++failures_[lease.index] < retry_.attempts) {
    ++retried_;
    const std::chrono::milliseconds delay = Backoff(failures_[lease.index]);
    spdlog::warn("task {} attempt {} failed ({}), retrying in {} ms: {}", result.task_id(), result.attempt(),
                 result.error().kind(), delay.count(), result.error().message());
    if (!stopped_) delayed_.emplace(clock_.Now() + delay, lease.index);
    return;
  }
  Finish(lease.index, std::move(result));
}

void Dispatcher::Requeue(const TaskId& task, bool counts_as_failure, const std::string& why) {
  auto it = leases_.find(task);
  if (it == leases_.end()) return;
  const Lease lease = it->second;
  leases_.erase(it);
  Release(task, lease);
  handler_->OnAttemptEnded(lease.index);
  ++requeued_;
  if (counts_as_failure && ++failures_[lease.index] >= retry_.attempts) {
    Finish(lease.index, FailedResult(task.value, lease.attempt, ERROR_CLASS_TRANSIENT, "worker_lost",
                                     why + ", " + std::to_string(failures_[lease.index]) + " times"));
    return;
  }
  if (!stopped_) pending_.push_front(lease.index);
}

void Dispatcher::ExpireLeases() {
  const Clock::TimePoint now = clock_.Now();
  std::vector<TaskId> expired;
  for (const auto& [id, lease] : leases_) {
    if (now > lease.deadline) expired.push_back(id);
  }
  for (const TaskId& id : expired) {
    spdlog::warn("task {} exceeded task_timeout_s={}; requeued", id.value, task_timeout_.count());
    Requeue(id, true, "timed out");
  }
}

size_t Dispatcher::StopDispatching() {
  const size_t dropped = pending_.size() + delayed_.size();
  pending_.clear();
  delayed_.clear();
  stopped_ = true;
  return dropped;
}

void Dispatcher::End(PassMetrics* metrics) {
  metrics->set_tasks_total(static_cast<uint32_t>(total_));
  metrics->set_tasks_executed(static_cast<uint32_t>(executed_));
  metrics->set_tasks_retried(static_cast<uint32_t>(retried_));
  metrics->set_tasks_requeued(static_cast<uint32_t>(requeued_));
  for (auto& [id, w] : workers_) {
    w.in_flight.clear();
    w.batches.clear();
  }
  leases_.clear();
  pending_.clear();
  delayed_.clear();
  handler_ = nullptr;
}

void Dispatcher::Finish(size_t index, TaskResult result) {
  ++completed_;
  handler_->OnResult(index, std::move(result));
}

std::chrono::milliseconds Dispatcher::Backoff(uint32_t failures) {
  double base = static_cast<double>(retry_.backoff_initial_ms) * std::pow(2.0, failures - 1);
  base = std::min(base, static_cast<double>(retry_.backoff_max_ms));
  if (retry_.jitter) base *= std::uniform_real_distribution<double>(0.5, 1.0)(rng_);
  return std::chrono::milliseconds(static_cast<int64_t>(base));
}

}  // namespace ingest
