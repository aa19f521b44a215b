#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "common/ids.h"
#include "common/pass.h"
#include "common/status.h"
#include "coordinator/fleet/fleet.h"
#include "proto/manifest.pb.h"

namespace prometheus {
class Registry;
}  // namespace prometheus

namespace ingest {

class FleetView;

// The coordinator's Prometheus metrics (README, "Metrics"), `ingestfleet_*`
// in base units, labelled only by bounded values (status, pass, outcome,
// channel): never a run id or a path. One per coordinator process; a
// `serve` daemon's counters add up over its runs.
//
// The run's thread records what happened; the fleet gauges (queue depth,
// tasks in flight, workers, slots) are read from the FleetView when the
// metrics are collected. Thread-safe.
class CoordinatorMetrics {
 public:
  // `fleet` may be null (no fleet gauges); it must outlive this object.
  explicit CoordinatorMetrics(const FleetView* fleet);
  ~CoordinatorMetrics();
  CoordinatorMetrics(const CoordinatorMetrics&) = delete;
  CoordinatorMetrics& operator=(const CoordinatorMetrics&) = delete;

  void RunStarted();
  // A pass ended (SUCCESS, FAILED or CANCELLED): its duration, its status
  // and its task outcomes.
  void PassEnded(Pass pass, const PassRecord& record);
  // A run ended with `summary`, at `ended`: runs by status, its duration,
  // documents by outcome, and the last success.
  void RunEnded(const RunSummary& summary, WallTime ended);
  // The last completed run known at start (the state store's), so a fresh
  // `serve` does not report "never".
  void SetLastSuccess(WallTime when);
  void NotificationSent(const std::string& channel, bool delivered);
  void FramesDropped(DropReason reason, uint64_t frames);

  // The Prometheus text exposition format (version 0.0.4).
  std::string Text() const;

 private:
  struct Families;
  const FleetView* fleet_;
  std::shared_ptr<prometheus::Registry> registry_;
  std::unique_ptr<Families> families_;
};

// Pushes `metrics` to the Pushgateway at `url` (http://host:port), grouped
// as job "ingestfleet", env `env`: an HTTP PUT, so the group holds exactly
// this run's metrics. Unavailable when the gateway cannot be reached.
Status PushMetrics(const CoordinatorMetrics& metrics, const std::string& url, const std::string& env);

}  // namespace ingest
