#include "coordinator/run/retention_stage.h"

#include <spdlog/spdlog.h>

#include "common/manifest.h"
#include "common/pass.h"
#include "coordinator/run/retention.h"

namespace ingest {

Result<uint32_t> RetentionStage::Plan() {
  INGEST_ASSIGN_OR_RETURN(stale_, StaleJobs(ctx_.env_dir(), ctx_.manifest.job_id(), ctx_.config.retention,
                                            std::chrono::system_clock::now()));
  return static_cast<uint32_t>(stale_.size());
}

void RetentionStage::Apply() {
  const RetentionConfig& retention = ctx_.config.retention;
  const PassRecord& cleanup = PassEntry(ctx_.manifest, Pass::PASS_F);
  if (!stale_.empty() && cleanup.status() == kPassSuccess && cleanup.run_id() == ctx_.run_id.value) {
    if (Result<uint32_t> deleted = DeleteJobs(stale_, retention); !deleted.ok()) {
      spdlog::warn("{}", deleted.status().message());
    }
  }
  stale_.clear();
  Result<uint32_t> compressed =
      CompressStaleLogs(ctx_.env_dir(), ctx_.manifest.job_id(), retention, std::chrono::system_clock::now());
  if (!compressed.ok()) {
    spdlog::warn("retention: {}", compressed.status().message());
  } else if (*compressed > 0) {
    spdlog::info("retention: gzipped the run logs of {} jobs older than {} days", *compressed,
                 retention.compress_after_days);
  }
}

}  // namespace ingest
