#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <string>

#include "common/ids.h"
#include "common/status.h"

namespace ingest {

// What a worker says about itself for probes (compose healthchecks,
// Kubernetes exec probes), in a small file it rewrites atomically about once
// a second: "key value" lines.
struct WorkerHealth {
  std::string worker_id;
  std::string coordinator;  // the --connect endpoint
  // Heard from the coordinator within three heartbeats.
  bool connected = false;
  bool draining = false;
  uint32_t tasks_running = 0;
  WallTime updated;     // when the worker's loop wrote this
  WallTime last_heard;  // last frame from the coordinator; epoch for never
};

Status WriteWorkerHealth(const std::filesystem::path& path, const WorkerHealth& health);
// InvalidArgument naming the file for one that is not a health file;
// NotFound when it does not exist (the worker has not started yet).
Result<WorkerHealth> ReadWorkerHealth(const std::filesystem::path& path);

enum class WorkerProbe {
  // The worker's loop runs: the file was written within `max_age`. A worker
  // waiting between two CronJob runs for its coordinator is live.
  kLive,
  // Live, connected to a coordinator and not draining: it can take tasks.
  kReady,
};

// OK, or Unavailable saying why the probe fails.
Status CheckWorkerHealth(const WorkerHealth& health, WorkerProbe probe, std::chrono::seconds max_age, WallTime now);

}  // namespace ingest
