#pragma once

#include <chrono>
#include <cstddef>

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
  // One dispatch of the task at `index` is over: a result (final or to be
  // retried) came back, or its worker was lost.
  virtual void OnAttemptEnded(size_t /*index*/) {}
};

}  // namespace ingest
