#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/ids.h"
#include "common/status.h"

struct sqlite3;  // sqlite3.h stays out of this header

namespace ingest {
namespace state_internal {
class Statement;
}  // namespace state_internal

// What the store remembers of one document between runs.
struct StoredDocument {
  std::string source_id;
  std::string source;
  std::string path;
  std::string checksum;
  uint64_t size = 0;
  int64_t mtime_ns = 0;
  std::string last_status;  // processed | unchanged | failed | quarantined | deleted
  uint32_t consecutive_failures = 0;
  // http pages: validators for the next conditional request.
  std::string etag;
  std::string last_modified;

  bool operator==(const StoredDocument&) const = default;
};

// What a run made of a document, as its manifest says.
struct DocumentOutcome {
  std::string_view source_id;
  std::string_view source;
  std::string_view path;
  std::string_view checksum;
  uint64_t size = 0;
  std::string_view status;  // processed | unchanged | failed | quarantined
};

struct StoredSource {
  std::string name;
  std::string last_checked_at;  // "" when never checked
  std::string last_status;      // processed | unchanged | not_due | failed
};

// One run, as recorded when it starts and completed when it ends.
struct StoredRun {
  RunId run_id;
  std::string env;
  std::string job_id;
  std::string job_dir;
  std::string trigger;
  std::string flags;
  std::string started_at;
  std::string ended_at;
  std::string status;
  int exit_code = -1;
  std::string summary_json;
  // The TriggerRun / ResumeRun request that started it; "" otherwise.
  std::string request_id;
  // The run's flags as admin.v1.RunFlags JSON.
  std::string options_json;
  std::string report_path;    // "" when the run wrote no failure report
  std::string cancel_reason;  // "" unless it was cancelled
  // The schedule slot it ran for (RFC 3339 UTC); "" for an unscheduled run.
  std::string scheduled_for;
};

// One pass of a run, as recorded when the run ended.
struct StoredPass {
  std::string pass;  // "A".."F"
  std::string status;
  std::string started_at;
  std::string ended_at;
  uint32_t tasks = 0;
  uint32_t reused = 0;
  uint64_t records = 0;
};

// Who holds an env's run lock.
struct LockHolder {
  RunId run_id;
  int64_t pid = 0;
  std::string host;
  std::string acquired_at;
  std::string scheduled_for;       // the holder's schedule slot, "" when it has none
  bool same_host = false;          // this host's name is the holder's
  bool process_gone = false;       // same host, and its pid no longer exists
  bool heartbeat_stopped = false;  // its heartbeat is older than the stale limit
  bool alive() const { return !process_gone && !heartbeat_stopped; }
  // "run run_… (pid 42 on host, since 2026-…)"
  std::string Describe() const;
};

// Where a page of ListRuns ended: the last run listed, newest first.
struct RunCursor {
  std::string started_at;
  RunId run_id;
};

struct ChangeEvent {
  std::string source;
  std::string source_id;
  std::string path;
  std::string change;  // new | modified | deleted
  std::string checksum;
  std::string previous_checksum;
};

// The state store (SPEC §9): one SQLite file in WAL mode with a busy
// timeout and a schema version migrated forward on open. History (runs,
// pass records, change events, audit events) is append-only: triggers
// refuse to delete or rewrite it. Errors name the database file. One
// instance per thread.
class StateStore {
 public:
  // Opens or creates the store; PermissionDenied / DataLoss (not a database,
  // corrupt) / FailedPrecondition (written by a newer build) name the file.
  static Result<StateStore> Open(const std::filesystem::path& path);
  // Opens an existing store without writing anything (for --dry-run);
  // nullopt when there is no store yet.
  static Result<std::optional<StateStore>> OpenReadOnly(const std::filesystem::path& path);

  StateStore(StateStore&& other) noexcept;
  StateStore& operator=(StateStore&&) = delete;
  StateStore(const StateStore&) = delete;
  ~StateStore();

  static constexpr int kSchemaVersion = 4;
  int schema_version() const { return schema_version_; }
  const std::filesystem::path& path() const { return path_; }

  // --- the run lock (one run per env); a run holds it through RunLock ---
  // Takes the env's lock for `holder`. A lock whose holder is gone (its pid
  // no longer exists on this host, or its heartbeat is older than
  // `stale_after`) is broken and `*broken` says whose it was. Aborted naming
  // the holder when it is alive.
  Status AcquireLock(const std::string& env, const RunId& holder, std::chrono::seconds stale_after, std::string* broken,
                     const std::string& scheduled_for = "");
  Status HeartbeatLock(const std::string& env, const RunId& holder);
  // The env's lock holder, alive or not; nullopt when nobody holds it.
  Result<std::optional<LockHolder>> Lock(const std::string& env, std::chrono::seconds stale_after);
  Status ReleaseLock(const std::string& env, const RunId& holder);

  // --- documents and sources ---
  Result<std::map<std::string, StoredDocument>> Documents(const std::string& env, const std::string& source);
  Status PutDocuments(const std::string& env, const std::vector<StoredDocument>& documents, const std::string& now);
  // Records how a run left each document: its status, and its consecutive
  // failures counted on from what the store holds (a failure adds one,
  // quarantine keeps the count, anything else ends it). The rest of a known
  // document's row stays as discovery wrote it; an unknown document is added
  // as `outcomes` describes it.
  Status SettleDocuments(const std::string& env, const std::vector<DocumentOutcome>& outcomes, const std::string& now);
  Result<std::optional<StoredSource>> Source(const std::string& env, const std::string& name);
  Status PutSource(const std::string& env, const std::string& name, const std::string& kind, const std::string& status,
                   bool checked, const std::string& now);

  // --- history ---
  Status RecordRunStart(const StoredRun& run);
  Status RecordRunEnd(const StoredRun& run);
  Status RecordPass(const RunId& run_id, const std::string& pass, const std::string& status,
                    const std::string& started_at, const std::string& ended_at, uint32_t tasks, uint32_t reused,
                    uint64_t records, const std::string& sha256);
  Status RecordChanges(const std::string& env, const RunId& run_id, const std::vector<ChangeEvent>& changes,
                       const std::string& now);
  Status RecordAudit(const std::string& env, const RunId& run_id, const std::string& event_type,
                     const std::string& payload, const std::string& now);
  // The newest run of `env` that ended completed or partial, other than
  // `except_job_id`: the job unchanged documents are carried forward from.
  Result<std::optional<StoredRun>> LastSuccessfulRun(const std::string& env, const std::string& except_job_id);
  // When the newest run of `env` started (RFC 3339), for the daemon's
  // missed-run check; nullopt before the first run.
  Result<std::optional<std::string>> LastRunStart(const std::string& env);
  // --- reading history (state/run_history.cc) ---
  // NotFound naming the run.
  Result<StoredRun> Run(const RunId& run_id);
  // Runs of `env` newest first (started_at, then run_id), after `cursor`
  // when given, at most `limit`, only those with `status` unless "".
  Result<std::vector<StoredRun>> Runs(const std::string& env, const std::string& status,
                                      const std::optional<RunCursor>& cursor, int limit);
  Result<std::vector<StoredPass>> Passes(const RunId& run_id);
  // The passes of several runs in one query (a page of ListRuns).
  Result<std::map<RunId, std::vector<StoredPass>>> Passes(const std::vector<RunId>& run_ids);
  // The run a TriggerRun or ResumeRun with `request_id` started.
  Result<std::optional<StoredRun>> RunWithRequestId(const std::string& env, const std::string& request_id);
  // The latest run recorded for schedule slot `scheduled_for`.
  Result<std::optional<StoredRun>> LatestRunOfSlot(const std::string& env, const std::string& scheduled_for);

  // Counts rows of a history table, for tests and `status`.
  Result<int64_t> Count(const std::string& table, const std::string& env);

 private:
  StateStore(std::filesystem::path path, sqlite3* db);
  Status Migrate();
  Status Exec(const std::string& sql);
  Status Error(const std::string& what) const;
  // Runs `sql` once for each of `rows` rows in one transaction: `bind` binds
  // row i and says what it is, for the error that rolls all of them back.
  // `crash_point` (optional) is passed just before the commit. `first`
  // (optional) runs in the transaction before the rows and may change how
  // many there are.
  Status StepRows(const char* sql, size_t rows,
                  const std::function<std::string(state_internal::Statement&, size_t)>& bind,
                  const char* crash_point = nullptr, const std::function<Status(size_t* rows)>& first = nullptr);
  // The first run `WHERE env = ? AND ...` (`where_order`, with its ORDER
  // BY) finds for `value`; `what` names it in an error.
  Result<std::optional<StoredRun>> FirstRun(const std::string& where_order, const std::string& env,
                                            const std::string& value, const std::string& what);

  std::filesystem::path path_;
  sqlite3* db_ = nullptr;
  int schema_version_ = 0;
};

}  // namespace ingest
