#pragma once

#include <absl/time/time.h>

#include <optional>
#include <string>

#include "common/cron.h"

namespace ingest {

struct ServeOptions {
  std::string config_file;
  std::string bind;  // overrides fleet.bind
  int local_workers = 0;
  unsigned local_worker_slots = 0;
  std::string admin_listen;  // overrides admin.listen
  std::string web_listen;    // overrides web.listen
  std::string log_file;      // --log-file: every run's NDJSON lines; "" is each job's run.ndjson
};

// `serve`: keeps the fleet broker bound (workers stay connected between
// runs), serves the admin API (admin.listen, by default kDefaultAdminListen)
// and starts a run at every firing of schedule.cron in schedule.timezone and
// for every TriggerRun / ResumeRun. Runs never overlap: a firing during a
// run is skipped and logged. A firing missed while the daemon was down is
// caught up once, at start. SIGTERM or SIGINT stops it: at once when idle;
// a run in progress is cancelled first (resumable). Returns 0, 1 when the
// fleet or the API cannot listen, or 2 for a bad config.
int ServeDaemon(const ServeOptions& options);

// When the daemon runs next: now when a firing passed since the last run
// started (missed while down), else the next firing.
absl::Time NextRunTime(const CronExpression& cron, const absl::TimeZone& zone, std::optional<absl::Time> last_run,
                       absl::Time now);

}  // namespace ingest
