#pragma once

#include <cstdint>
#include <filesystem>
#include <vector>

#include "common/status.h"
#include "coordinator/run/run_context.h"

namespace ingest {

// Retention as a stage of the run (README, "Operations: Retention"). Before
// pass F merges, it decides which old job directories of the env go, so
// that pass F's record reports the count (`stale_deleted`); once the run's
// outcome is recorded, it deletes them (only when pass F succeeded in this
// run, so the count in the artifact is what happened) and gzips the run
// logs of jobs older than compress_after_days. Nothing here fails the run.
//
// Reads: config (retention, artifact_root, env), manifest (job id, pass F).
// Writes: old job directories and their run logs, never the current job.
class RetentionStage {
 public:
  explicit RetentionStage(const RunContext& ctx) : ctx_(ctx) {}

  // How many job directories go; the decision stands until Apply.
  Result<uint32_t> Plan();
  // Deletes what Plan chose and gzips old run logs; logs what it did.
  void Apply();

 private:
  const RunContext& ctx_;
  std::vector<std::filesystem::path> stale_;
};

}  // namespace ingest
