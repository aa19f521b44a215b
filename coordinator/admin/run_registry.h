#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "common/config.h"
#include "common/ids.h"
#include "common/status.h"
#include "coordinator/coordinator.h"
#include "coordinator/fleet/fleet.h"
#include "coordinator/run/run_control.h"
#include "coordinator/state/state_store.h"
#include "proto/admin.pb.h"

namespace ingest {

// What the admin API serves from: the runs of this process (live, through
// their RunControl) and the state store (every run of the env, whichever
// process ran it). The serve daemon also queues the runs asked for through
// the API here and takes them from its own thread. Thread-safe.
class RunRegistry {
 public:
  // `starts_runs`: serve (TriggerRun and ResumeRun queue runs); a `run`
  // process refuses them. `workers` (may be null) is where the fleet
  // publishes its workers; it must outlive the registry.
  RunRegistry(Config config, bool starts_runs, const FleetView* workers);

  // ---- The runs of this process.

  // A new control for a run this process starts (a scheduled one, or a
  // `run`'s own), registered here; its run id is unique in this process.
  std::shared_ptr<RunControl> NewRun(RunOptions* options, bool signals_cancel);

  // ---- Runs asked for through the API (serve only).

  // Queues a run of `options`, or returns the run an earlier request with
  // the same request id started. FailedPrecondition, with `*locked` set,
  // while another run of the env holds its lock or is queued here.
  Result<admin::Run> Enqueue(RunOptions options, bool* locked);
  // The serve daemon's thread: the run to start next, if one is queued.
  struct Queued {
    RunOptions options;
    std::shared_ptr<RunControl> control;
  };
  std::optional<Queued> TakeQueued();
  bool has_queued() const;

  // ---- The API's calls. NotFound names the run.
  Result<admin::Run> Get(const RunId& run_id);
  Result<admin::ListRunsResponse> List(const admin::ListRunsRequest& request);
  // The live control of a run of this process; null otherwise.
  std::shared_ptr<RunControl> Live(const RunId& run_id) const;
  // A run of another process on this host is asked with SIGTERM, as
  // Kubernetes would; one elsewhere cannot be reached (FailedPrecondition).
  Result<admin::Run> Cancel(const RunId& run_id, const std::string& reason);
  Result<admin::Run> Resume(const RunId& run_id, const std::string& request_id, bool* locked);
  Result<admin::Report> Report(const RunId& run_id);
  Result<admin::GetRunLogResponse> Log(const RunId& run_id, int max_lines);
  admin::ListWorkersResponse Workers() const;
  const Config& config() const { return config_; }
  // True for serve, which starts runs (on its schedule and when asked).
  bool starts_runs() const { return starts_runs_; }

 private:
  // A run id unlike any this process gave out (they have one-second
  // resolution: waits out a collision).
  RunId NewRunId();
  // The store's view of a run, with what only the lock knows: a run marked
  // running whose process is gone did not end cleanly. store_mu_ held.
  Result<admin::Run> StoredView(const RunId& run_id);
  admin::Run ViewOf(const StoredRun& stored, const std::vector<StoredPass>& passes);  // store_mu_ held
  // Why no run may start now, naming the run in the way; ok when one may.
  Status Busy();  // mu_ and store_mu_ held

  const Config config_;
  const bool starts_runs_;
  const FleetView* workers_;

  mutable std::mutex mu_;
  std::map<RunId, std::shared_ptr<RunControl>> live_;  // Guarded by mu_: this process's runs, newest kept
  std::optional<Queued> queued_;                       // Guarded by mu_.
  RunId last_run_id_;                                  // Guarded by mu_.

  // One connection for the API's reads, used by one thread at a time.
  mutable std::mutex store_mu_;
  std::optional<StateStore> store_;  // Guarded by store_mu_; opened on first use
  Status OpenStore();                // store_mu_ held
};

}  // namespace ingest
