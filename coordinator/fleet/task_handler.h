#pragma once

#include <chrono>
#include <cstddef>
#include <functional>

#include "common/status.h"
#include "proto/fleet.pb.h"

namespace ingest {

// What the fleet asks of the work being executed (a pass, or the page fetch
// before pass A). Tasks are named by their index in the handler's plan.
// Called on the thread that runs the fleet only.
class TaskHandler {
 public:
  virtual ~TaskHandler() = default;
  // The task at `index` of the plan, without attempt (the fleet sets it).
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
  // How much work the task at `index` is, in bytes of input, to keep heavy
  // tasks out of one batch; 0 when it does not matter.
  virtual uint64_t Weight(size_t /*index*/) const { return 0; }
  // One dispatch of the task at `index` is over: a result (final or to be
  // retried) came back, or its worker was lost.
  virtual void OnAttemptEnded(size_t /*index*/) {}
};

// What the run asks of one execution besides its tasks.
struct ExecuteHooks {
  // Checked on every turn of the loop: once true, nothing more is
  // dispatched, running tasks get `cancel_grace` to send their results, and
  // the execution ends Cancelled.
  std::function<bool()> cancelled;
  std::chrono::seconds cancel_grace{30};
  // Tasks with a final result and in all, at most twice a second and once
  // at the end.
  std::function<void(size_t done, size_t total)> progress;
};

}  // namespace ingest
