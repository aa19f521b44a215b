#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/config.h"
#include "common/ids.h"
#include "coordinator/fleet/task_handler.h"
#include "proto/fleet.pb.h"
#include "proto/manifest.pb.h"

namespace ingest {

// What the dispatcher knows of one worker: its slots and the tasks it holds.
struct WorkerLoad {
  uint32_t slots = 1;
  bool draining = false;
  // A send to it failed: no more tasks until it announces itself again.
  bool unreachable = false;
  std::set<TaskId> in_flight;
  // Batches sent to it and not answered in full: batch number -> its tasks
  // still out.
  std::map<uint64_t, uint32_t> batches;
  uint64_t tasks_done = 0;  // results accepted from it
};

// The fleet's task scheduling, without sockets: the queue of one execution
// (a pass, or the page fetch before pass A), the lease of every dispatched
// task with its attempt number and deadline, retries of transient failures
// with exponential backoff and jitter, and requeues of tasks whose worker
// died, timed out or drained. Tasks go out in batches (set_batching): a
// worker holds at most `slots` batches, plus one waiting behind them when
// batches may hold more than one task, so it never idles for a round trip;
// the worker with the most free slots is served first. A batch holds fewer
// tasks as the queue shortens, so the last ones spread over the fleet. Each task ends with exactly one call of
// TaskHandler::OnResult, and a result is accepted only from the worker that
// holds the current attempt's lease, so a task is committed once.
//
// The broker feeds it what the fleet says and lets it send; time comes from
// the clock it is given. Not thread-safe: every call on one thread.
class Dispatcher {
 public:
  // Hands a batch of tasks to a worker; false when the worker cannot be
  // reached (the tasks go back to the front of the queue at once).
  using SendTasks = std::function<bool(const WorkerId& worker, std::vector<Task> tasks)>;

  // `task_timeout`: a lease older than this is taken back. `seed` drives
  // the backoff jitter.
  Dispatcher(RetryConfig retry, std::chrono::seconds task_timeout, const Clock& clock, SendTasks send,
             uint32_t seed = std::random_device{}());

  // Batches of up to `max_tasks` tasks whose TaskHandler::Weight adds up to
  // at most `max_weight` (a heavier task goes alone). One task at a time
  // (1) until set.
  void set_batching(uint32_t max_tasks, uint64_t max_weight) {
    max_batch_tasks_ = std::max<uint32_t>(1, max_tasks);
    max_batch_weight_ = max_weight;
  }

  // ---- Workers; they stay known between executions.

  // READY: a new worker, or one announcing itself again (slots may change).
  void AdmitWorker(const WorkerId& worker, uint32_t slots);
  // DRAIN: the worker takes no more tasks; those of `unstarted` it holds go
  // back to the queue without counting as a failed attempt.
  void DrainWorker(const WorkerId& worker, const std::vector<TaskId>& unstarted);
  // The worker is dead or gone: its tasks go back to the queue, each counting
  // as a failed attempt (`why` ends up in the error of a task that runs out).
  void RemoveWorker(const WorkerId& worker, const std::string& why);
  // Workers that may be given tasks: admitted, not draining, reachable.
  size_t ready_workers() const;
  // nullptr for a worker not admitted.
  const WorkerLoad* load(const WorkerId& worker) const;
  using Workers = std::map<WorkerId, WorkerLoad>;
  const Workers& workers() const { return workers_; }

  // ---- One execution at a time.

  // Starts executing the tasks of `order` (indexes into the handler's plan),
  // dispatched in that order. `handler` must outlive End().
  void Begin(const std::vector<size_t>& order, TaskHandler& handler);
  // Moves retries whose backoff has passed to the front of the queue, then
  // hands out tasks while some worker has a free slot.
  void Dispatch();
  // A worker's result. Refused, and counted in stale_results(), unless it
  // answers the current attempt of a task leased to that very worker.
  void OnResult(const WorkerId& from, TaskResult result);
  // Takes back every task whose lease is older than the task timeout.
  void ExpireLeases();
  // Cancellation: the queue and the retries waiting out their backoff are
  // dropped (they never get a result); leased tasks keep theirs. Returns how
  // many were dropped. Dispatch() hands out nothing after this.
  size_t StopDispatching();
  bool done() const { return completed_ == total_; }
  // Tasks queued, backing off or running.
  bool has_waiting_work() const { return !pending_.empty() || !delayed_.empty() || !leases_.empty(); }
  size_t completed() const { return completed_; }
  size_t total() const { return total_; }
  size_t in_flight() const { return leases_.size(); }
  // Waiting for a slot: queued, or backing off before a retry.
  size_t queued() const { return pending_.size() + delayed_.size(); }
  // Ends the execution and fills the task counters of `metrics` (total,
  // executed, retried, requeued). Leases still out are forgotten: their
  // results will be stale.
  void End(PassMetrics* metrics);

  uint64_t stale_results() const { return stale_results_; }

 private:
  struct Lease {
    size_t index = 0;
    uint32_t attempt = 0;
    WorkerId worker;
    Clock::TimePoint deadline;
    uint64_t batch = 0;
    uint64_t sent = 0;  // dispatch sequence, to requeue in the order sent
  };

  // Batches a worker may hold at once.
  uint32_t BatchCapacity(const WorkerLoad& worker) const;
  // The worker with the most free batch slots; end() when none has one.
  Workers::iterator Pick();
  // Tasks for the next batch: the queue spread over twice the fleet's batch
  // slots, within 1..max_batch_tasks_.
  size_t NextBatchSize() const;
  // The lease of `task` no longer holds a place at its worker.
  void Release(const TaskId& task, const Lease& lease);
  // Takes a task back from its worker; `counts_as_failure` is false for a
  // task that never started (drained, or never delivered).
  void Requeue(const TaskId& task, bool counts_as_failure, const std::string& why);
  void Finish(size_t index, TaskResult result);
  std::chrono::milliseconds Backoff(uint32_t failures);

  RetryConfig retry_;
  std::chrono::seconds task_timeout_;
  const Clock& clock_;
  SendTasks send_;
  std::mt19937 rng_;
  uint32_t max_batch_tasks_ = 1;
  uint64_t max_batch_weight_ = 0;
  uint64_t next_batch_ = 0;
  uint64_t next_sent_ = 0;
  Workers workers_;
  uint64_t stale_results_ = 0;

  // The current execution.
  TaskHandler* handler_ = nullptr;
  std::deque<size_t> pending_;
  std::multimap<Clock::TimePoint, size_t> delayed_;  // retries backing off, by when
  std::map<TaskId, Lease> leases_;
  std::vector<uint32_t> attempt_;   // last attempt number dispatched, by index
  std::vector<uint32_t> failures_;  // failed attempts so far, by index
  size_t total_ = 0;
  size_t completed_ = 0;
  uint64_t executed_ = 0;
  uint64_t retried_ = 0;
  uint64_t requeued_ = 0;
  bool stopped_ = false;  // StopDispatching was called
};

}  // namespace ingest
