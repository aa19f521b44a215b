#pragma once

#include <optional>
#include <string>
#include <vector>

namespace ingest {

// Exit codes of ingest-coordinator (SPEC §6).
inline constexpr int kExitCompleted = 0;
inline constexpr int kExitFailed = 1;
inline constexpr int kExitUsage = 2;
inline constexpr int kExitPartial = 3;
inline constexpr int kExitLocked = 4;
// A run cancelled by signal N exits 128 + N (the run is recorded cancelled
// and can be resumed); one cancelled by CancelRun exits as if by SIGTERM.
inline constexpr int kExitSignalBase = 128;
inline constexpr int kExitCancelled = kExitSignalBase + 15;

// Flags of `ingest-coordinator run`.
struct RunOptions {
  std::string config_file;
  std::string env;      // overrides the config's env when set
  std::string job_dir;  // reuse / create this job directory
  std::string passes;   // "A,C": run just these
  std::string resume_from;
  bool resume = false;
  bool baseline = false;
  bool full_refresh = false;
  bool dry_run = false;
  bool json = false;  // with dry_run: the plan as one JSON document (admin.v1.Plan)
  std::vector<std::string> sources;
  bool manual = false;
  // schedule | manual | api; "" is manual with --manual, schedule without.
  std::string trigger;
  // The TriggerRun / ResumeRun request that asked for this run.
  std::string request_id;
  // Set by the admin API, which names a run before it starts; "" makes one.
  std::string run_id;
  std::string bind;          // overrides fleet.bind
  std::string admin_listen;  // overrides admin.listen: this run serves the admin API for itself
  std::string web_listen;    // overrides web.listen: this run serves the status page
  int local_workers = 0;
  unsigned local_worker_slots = 0;
  // The flags as given, recorded in the manifest's run entry.
  std::vector<std::string> flags;
  // --log-file: where the NDJSON log lines go; "" is the job's run.ndjson.
  std::string log_file;
  // --scheduled-for, as a schedule slot (RFC 3339 UTC): a slot whose run
  // completed is not run again, one whose run failed or died is resumed.
  std::string scheduled_for;
};

// Runs a job (SPEC §1): plans, dispatches passes A..F to the fleet, writes
// artifacts and manifest, prints the run summary JSON as the last stdout line
// and returns the exit code.
int RunCoordinator(const RunOptions& options);

// `check`: validates a config file and, unless `syntax_only`, that every
// files source's root is a directory this process can list; prints what is
// wrong. Returns 0 or 2.
int CheckConfig(const std::string& config_file, bool syntax_only = false);

// `verify --job-dir DIR`: checks a job directory (coordinator/pass/job_verify.h),
// prints each problem, then one line saying what was checked. Returns 0 or 1.
int VerifyJobDir(const std::string& job_dir);

// `keygen PREFIX`: writes a CurveZMQ key pair, prints the public key; exit 0 or 1.
int GenerateKeys(const std::string& prefix);

// `ingest-coordinator retention`: under the env's run lock, gzips old run
// logs and deletes old job directories as a run's end would (exit 0, 1, or
// 4 when a run holds the lock).
int ApplyRetention(const std::string& config_file);

}  // namespace ingest
