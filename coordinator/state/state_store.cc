#include "coordinator/state/state_store.h"

#include <signal.h>
#include <spdlog/spdlog.h>
#include <sqlite3.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <thread>
#include <unordered_set>

#include "common/crash_point.h"
#include "common/ids.h"
#include "common/proto_json.h"
#include "common/utf8.h"
#include "coordinator/state/statement.h"

namespace ingest {
namespace {

using state_internal::Statement;

constexpr int kBusyTimeoutMs = 10000;

// Schema migrations: entry i takes the store from version i to i + 1.
const char* const kMigrations[] = {
    R"sql(
CREATE TABLE sources (
  env TEXT NOT NULL, name TEXT NOT NULL, kind TEXT NOT NULL,
  last_checked_at TEXT NOT NULL DEFAULT '', last_processed_at TEXT NOT NULL DEFAULT '',
  last_status TEXT NOT NULL DEFAULT '',
  PRIMARY KEY (env, name));
CREATE TABLE documents (
  env TEXT NOT NULL, source_id TEXT NOT NULL, source TEXT NOT NULL, path TEXT NOT NULL,
  checksum TEXT NOT NULL DEFAULT '', size INTEGER NOT NULL DEFAULT 0, mtime_ns INTEGER NOT NULL DEFAULT 0,
  last_checked_at TEXT NOT NULL DEFAULT '', last_processed_at TEXT NOT NULL DEFAULT '',
  last_record_id TEXT NOT NULL DEFAULT '', last_status TEXT NOT NULL DEFAULT '',
  consecutive_failures INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (env, source_id));
CREATE INDEX documents_by_source ON documents (env, source);
CREATE TABLE runs (
  run_id TEXT PRIMARY KEY, env TEXT NOT NULL, job_id TEXT NOT NULL, job_dir TEXT NOT NULL,
  trigger TEXT NOT NULL, flags TEXT NOT NULL, started_at TEXT NOT NULL,
  ended_at TEXT NOT NULL DEFAULT '', status TEXT NOT NULL, exit_code INTEGER NOT NULL DEFAULT -1,
  summary TEXT NOT NULL DEFAULT '');
CREATE INDEX runs_by_env ON runs (env, started_at);
CREATE TABLE pass_records (
  run_id TEXT NOT NULL, pass TEXT NOT NULL, status TEXT NOT NULL, started_at TEXT NOT NULL,
  ended_at TEXT NOT NULL, tasks INTEGER NOT NULL, reused INTEGER NOT NULL, records INTEGER NOT NULL,
  sha256 TEXT NOT NULL, PRIMARY KEY (run_id, pass));
CREATE TABLE change_events (
  id INTEGER PRIMARY KEY, env TEXT NOT NULL, run_id TEXT NOT NULL, source TEXT NOT NULL,
  source_id TEXT NOT NULL, path TEXT NOT NULL,
  change TEXT NOT NULL CHECK (change IN ('new', 'modified', 'deleted')),
  checksum TEXT NOT NULL, previous_checksum TEXT NOT NULL, detected_at TEXT NOT NULL);
CREATE TABLE audit_events (
  id INTEGER PRIMARY KEY, env TEXT NOT NULL, run_id TEXT NOT NULL,
  event_type TEXT NOT NULL CHECK (event_type IN ('ingestion_completed', 'ingestion_failed')),
  payload TEXT NOT NULL, created_at TEXT NOT NULL);
CREATE TABLE locks (
  env TEXT PRIMARY KEY, run_id TEXT NOT NULL, pid INTEGER NOT NULL, host TEXT NOT NULL,
  acquired_at TEXT NOT NULL, heartbeat_unix INTEGER NOT NULL);
CREATE TRIGGER change_events_append_only_d BEFORE DELETE ON change_events
  BEGIN SELECT RAISE(ABORT, 'change_events is append-only'); END;
CREATE TRIGGER change_events_append_only_u BEFORE UPDATE ON change_events
  BEGIN SELECT RAISE(ABORT, 'change_events is append-only'); END;
CREATE TRIGGER audit_events_append_only_d BEFORE DELETE ON audit_events
  BEGIN SELECT RAISE(ABORT, 'audit_events is append-only'); END;
CREATE TRIGGER audit_events_append_only_u BEFORE UPDATE ON audit_events
  BEGIN SELECT RAISE(ABORT, 'audit_events is append-only'); END;
CREATE TRIGGER pass_records_append_only_d BEFORE DELETE ON pass_records
  BEGIN SELECT RAISE(ABORT, 'pass_records is append-only'); END;
CREATE TRIGGER runs_append_only_d BEFORE DELETE ON runs
  BEGIN SELECT RAISE(ABORT, 'runs is append-only'); END;
)sql",
    R"sql(
ALTER TABLE documents ADD COLUMN etag TEXT NOT NULL DEFAULT '';
ALTER TABLE documents ADD COLUMN last_modified TEXT NOT NULL DEFAULT '';
)sql",
    R"sql(
ALTER TABLE runs ADD COLUMN request_id TEXT NOT NULL DEFAULT '';
ALTER TABLE runs ADD COLUMN report_path TEXT NOT NULL DEFAULT '';
ALTER TABLE runs ADD COLUMN cancel_reason TEXT NOT NULL DEFAULT '';
ALTER TABLE runs ADD COLUMN options TEXT NOT NULL DEFAULT '';
CREATE INDEX runs_by_request ON runs (env, request_id);
CREATE INDEX runs_by_status ON runs (env, status, started_at);
)sql",
    R"sql(
ALTER TABLE runs ADD COLUMN scheduled_for TEXT NOT NULL DEFAULT '';
ALTER TABLE locks ADD COLUMN scheduled_for TEXT NOT NULL DEFAULT '';
CREATE INDEX runs_by_slot ON runs (env, scheduled_for, started_at);
)sql",
};

static_assert(std::size(kMigrations) == StateStore::kSchemaVersion, "one migration per schema version");

std::string HostName() {
  char host[256] = {0};
  ::gethostname(host, sizeof host - 1);
  return host;
}

}  // namespace

StateStore::StateStore(std::filesystem::path path, sqlite3* db) : path_(std::move(path)), db_(db) {}

StateStore::StateStore(StateStore&& other) noexcept
    : path_(std::move(other.path_)), db_(other.db_), schema_version_(other.schema_version_) {
  other.db_ = nullptr;
}

StateStore::~StateStore() { sqlite3_close_v2(db_); }

Status StateStore::Error(const std::string& what) const {
  const int code = sqlite3_extended_errcode(db_);
  std::string message = "state store " + path_.string() + ": " + what + ": " + sqlite3_errmsg(db_);
  switch (code & 0xff) {
    case SQLITE_NOTADB:
    case SQLITE_CORRUPT:
      return DataLoss(message);
    case SQLITE_PERM:
    case SQLITE_READONLY:
    case SQLITE_CANTOPEN:
      return PermissionDenied(message);
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      return Unavailable(message);
    default:
      return Internal(message);
  }
}

Status StateStore::Exec(const std::string& sql) {
  char* error = nullptr;
  if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &error) != SQLITE_OK) {
    Status status = Error(sql.substr(0, sql.find_first_of("\n(")));
    sqlite3_free(error);
    return status;
  }
  return Status::Ok();
}

Result<StateStore> StateStore::Open(const std::filesystem::path& path) {
  std::error_code ec;
  if (!path.parent_path().empty()) std::filesystem::create_directories(path.parent_path(), ec);
  if (ec) return ErrnoStatus(ec.value(), "state store directory " + path.parent_path().string());
  sqlite3* db = nullptr;
  int rc =
      sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX, nullptr);
  StateStore store(path, db);
  if (rc != SQLITE_OK) return store.Error("open");
  sqlite3_busy_timeout(db, kBusyTimeoutMs);
  // The first statements read the header: a file that is not a database
  // fails here, untouched. Switching a new file to WAL while another
  // connection does the same can answer SQLITE_BUSY without calling the
  // busy handler, so that one is retried for as long as the handler waits.
  for (int waited_ms = 0;; waited_ms += 10) {
    Status wal = store.Exec("PRAGMA journal_mode=WAL");
    if (wal.ok()) break;
    if ((sqlite3_errcode(db) & 0xff) != SQLITE_BUSY || waited_ms >= kBusyTimeoutMs) return wal;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  // In WAL mode NORMAL fsyncs at checkpoints, not at every commit: a power
  // cut may lose the last commits but never leaves the file inconsistent.
  // The job's manifest, fsynced, is the record a resume reads; what the
  // store would lose is redone by the next run's change detection.
  INGEST_RETURN_IF_ERROR(store.Exec("PRAGMA synchronous=NORMAL"));
  INGEST_RETURN_IF_ERROR(store.Exec("PRAGMA foreign_keys=ON"));
  // Statement journals stay in memory: the run's end settles every unchanged
  // document by one UPDATE inside a transaction, whose journal of the pages
  // it changes (about 1 MB over 4,000 documents) went to a file in /var/tmp.
  INGEST_RETURN_IF_ERROR(store.Exec("PRAGMA temp_store=MEMORY"));
  INGEST_RETURN_IF_ERROR(store.Migrate());
  return store;
}

Result<std::optional<StateStore>> StateStore::OpenReadOnly(const std::filesystem::path& path) {
  if (!std::filesystem::exists(path)) return std::optional<StateStore>();
  // Without a write-ahead log to read, "immutable" keeps SQLite from
  // creating its -shm and -wal files: a dry run leaves no trace. With one (a
  // run is in progress, or one died), its pages are needed and SQLite makes
  // the shared-memory index.
  std::error_code ec;
  const auto wal_size = std::filesystem::file_size(path.string() + "-wal", ec);
  const bool quiet = ec || wal_size == 0;
  const std::string uri = "file:" + path.string() + (quiet ? "?mode=ro&immutable=1" : "?mode=ro");
  sqlite3* db = nullptr;
  int rc = sqlite3_open_v2(uri.c_str(), &db, SQLITE_OPEN_READONLY | SQLITE_OPEN_URI, nullptr);
  StateStore store(path, db);
  if (rc != SQLITE_OK) return store.Error("open read-only");
  sqlite3_busy_timeout(db, kBusyTimeoutMs);
  Statement version(db, "PRAGMA user_version");
  if (!version.ok() || version.Step() != SQLITE_ROW) return store.Error("read schema version");
  store.schema_version_ = static_cast<int>(version.Int(0));
  if (store.schema_version_ != kSchemaVersion) {
    return FailedPrecondition("state store " + path.string() + " has schema v" + std::to_string(store.schema_version_) +
                              ", this build reads v" + std::to_string(kSchemaVersion) + " (a real run migrates it)");
  }
  return std::optional<StateStore>(std::move(store));
}

Status StateStore::Migrate() {
  // Another process may open the same new store at the same moment (serve
  // beside a CronJob's run): the version is read inside the write
  // transaction, so each migration is applied once, by whoever gets there
  // first, and no read snapshot goes stale before the write.
  auto read_version = [this]() -> Status {
    Statement version(db_, "PRAGMA user_version");
    if (!version.ok() || version.Step() != SQLITE_ROW) return Error("read schema version");
    schema_version_ = static_cast<int>(version.Int(0));
    if (schema_version_ > kSchemaVersion) {
      return FailedPrecondition("state store " + path_.string() + " has schema v" + std::to_string(schema_version_) +
                                ", written by a newer build; this one knows v" + std::to_string(kSchemaVersion));
    }
    return Status::Ok();
  };
  INGEST_RETURN_IF_ERROR(read_version());
  while (schema_version_ < kSchemaVersion) {
    INGEST_RETURN_IF_ERROR(Exec("BEGIN IMMEDIATE"));
    Status applied = read_version();
    const bool due = applied.ok() && schema_version_ < kSchemaVersion;
    if (due) applied = Exec(kMigrations[schema_version_]);
    if (due && applied.ok()) applied = Exec("PRAGMA user_version=" + std::to_string(schema_version_ + 1));
    if (!applied.ok()) {
      (void)Exec("ROLLBACK");
      return applied;
    }
    INGEST_RETURN_IF_ERROR(Exec("COMMIT"));
    if (!due) break;
    ++schema_version_;
    spdlog::info("state store {}: migrated to schema v{}", path_.string(), schema_version_);
  }
  return Status::Ok();
}

Status StateStore::AcquireLock(const std::string& env, const RunId& holder_id, std::chrono::seconds stale_after,
                               std::string* broken, const std::string& scheduled_for) {
  INGEST_RETURN_IF_ERROR(Exec("BEGIN IMMEDIATE"));
  auto rollback = [this](Status s) {
    (void)Exec("ROLLBACK");
    return s;
  };
  Result<std::optional<LockHolder>> holder = Lock(env, stale_after);
  if (!holder.ok()) return rollback(holder.status());
  if (*holder) {
    const LockHolder& h = **holder;
    if (h.alive()) return rollback(Aborted("env '" + env + "' is locked by " + h.Describe()));
    *broken = h.Describe() + (h.process_gone ? ": its process is gone" : ": its heartbeat stopped");
  }
  Statement take(db_,
                 "INSERT OR REPLACE INTO locks (env, run_id, pid, host, acquired_at, heartbeat_unix, scheduled_for) "
                 "VALUES (?, ?, ?, ?, ?, ?, ?)");
  take.Bind(env).Bind(holder_id.value).Bind(static_cast<int64_t>(::getpid())).Bind(HostName());
  take.Bind(FormatTimestamp(std::chrono::system_clock::now())).Bind(UnixNow()).Bind(scheduled_for);
  if (take.Step() != SQLITE_DONE) return rollback(Error("take lock"));
  return Exec("COMMIT");
}

Result<std::optional<LockHolder>> StateStore::Lock(const std::string& env, std::chrono::seconds stale_after) {
  Statement query(db_, "SELECT run_id, pid, host, acquired_at, heartbeat_unix, scheduled_for FROM locks WHERE env = ?");
  query.Bind(env);
  const int rc = query.Step();
  if (rc == SQLITE_DONE) return std::optional<LockHolder>();
  if (rc != SQLITE_ROW) return Error("read lock");
  LockHolder h{.run_id = RunId{query.Text(0)},
               .pid = query.Int(1),
               .host = query.Text(2),
               .acquired_at = query.Text(3),
               .scheduled_for = query.Text(5)};
  h.same_host = h.host == HostName();
  h.process_gone = h.same_host && ::kill(static_cast<pid_t>(h.pid), 0) != 0 && errno == ESRCH;
  h.heartbeat_stopped = UnixNow() - query.Int(4) > stale_after.count();
  return std::optional<LockHolder>(std::move(h));
}

std::string LockHolder::Describe() const {
  return "run " + run_id.value + " (pid " + std::to_string(pid) + " on " + host + ", since " + acquired_at + ")";
}

Status StateStore::HeartbeatLock(const std::string& env, const RunId& holder) {
  Statement beat(db_, "UPDATE locks SET heartbeat_unix = ? WHERE env = ? AND run_id = ?");
  beat.Bind(UnixNow()).Bind(env).Bind(holder.value);
  return beat.Step() == SQLITE_DONE ? Status::Ok() : Error("lock heartbeat");
}

Status StateStore::ReleaseLock(const std::string& env, const RunId& holder) {
  Statement release(db_, "DELETE FROM locks WHERE env = ? AND run_id = ?");
  release.Bind(env).Bind(holder.value);
  return release.Step() == SQLITE_DONE ? Status::Ok() : Error("release lock");
}

Result<std::map<std::string, StoredDocument>> StateStore::Documents(const std::string& env, const std::string& source) {
  Statement query(db_,
                  "SELECT source_id, source, path, checksum, size, mtime_ns, last_status, consecutive_failures, "
                  "etag, last_modified FROM documents WHERE env = ? AND source = ?");
  if (!query.ok()) return Error("read documents");
  query.Bind(env).Bind(source);
  std::map<std::string, StoredDocument> documents;
  int rc;
  while ((rc = query.Step()) == SQLITE_ROW) {
    StoredDocument d{query.Text(0),
                     query.Text(1),
                     query.Text(2),
                     query.Text(3),
                     static_cast<uint64_t>(query.Int(4)),
                     query.Int(5),
                     query.Text(6),
                     static_cast<uint32_t>(query.Int(7)),
                     query.Text(8),
                     query.Text(9)};
    documents.emplace(d.source_id, std::move(d));
  }
  if (rc != SQLITE_DONE) return Error("read documents");
  return documents;
}

Status StateStore::StepRows(const char* sql, size_t rows, const std::function<std::string(Statement&, size_t)>& bind,
                            const char* crash_point, const std::function<Status(size_t* rows)>& first) {
  INGEST_RETURN_IF_ERROR(Exec("BEGIN IMMEDIATE"));
  if (first) {
    if (Status done = first(&rows); !done.ok()) {
      (void)Exec("ROLLBACK");
      return done;
    }
  }
  Statement statement(db_, sql);
  for (size_t i = 0; i < rows; ++i) {
    statement.Reset();
    const std::string what = bind(statement, i);
    if (statement.Step() != SQLITE_DONE) {
      Status error = Error(what);
      (void)Exec("ROLLBACK");
      return error;
    }
  }
  if (crash_point != nullptr) CrashPoint(crash_point);
  return Exec("COMMIT");
}

Status StateStore::PutDocuments(const std::string& env, const std::vector<StoredDocument>& documents,
                                const std::string& now) {
  return StepRows(
      "INSERT INTO documents (env, source_id, source, path, checksum, size, mtime_ns, last_checked_at, "
      "last_processed_at, last_status, consecutive_failures, etag, last_modified) "
      "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
      "ON CONFLICT (env, source_id) DO UPDATE SET source = excluded.source, path = excluded.path, "
      "checksum = excluded.checksum, size = excluded.size, mtime_ns = excluded.mtime_ns, "
      "last_checked_at = excluded.last_checked_at, last_status = excluded.last_status, "
      "consecutive_failures = excluded.consecutive_failures, etag = excluded.etag, "
      "last_modified = excluded.last_modified, last_processed_at = CASE WHEN excluded.last_status = "
      "'processed' THEN excluded.last_processed_at "
      "ELSE documents.last_processed_at END",
      documents.size(),
      [&](Statement& put, size_t i) {
        const StoredDocument& d = documents[i];
        put.Bind(env).Bind(d.source_id).Bind(d.source).Bind(d.path).Bind(d.checksum).Bind(static_cast<int64_t>(d.size));
        put.Bind(d.mtime_ns).Bind(now).Bind(now).Bind(d.last_status).Bind(static_cast<int64_t>(d.consecutive_failures));
        put.Bind(d.etag).Bind(d.last_modified);
        return "write document " + d.path;
      },
      "state_record");
}

Status StateStore::SettleDocuments(const std::string& env, const std::vector<DocumentOutcome>& outcomes,
                                   const std::string& now) {
  // Unchanged documents, nearly all of them on most nights, are not
  // upserted one statement step each: one read of the table finds the rows
  // that do not say unchanged yet (an unchanged document was compared with
  // its row, so the row is there), and one statement over a JSON array of
  // their ids changes them as the upsert below would. A row that says
  // unchanged already is not written again (when it was last checked is its
  // source's last_checked_at), so a night with nothing new rewrites no page
  // of the table and leaves the checkpoint nothing to copy. Should a row be
  // missing after all, every unchanged document goes through the upsert.
  std::unordered_set<std::string_view> unchanged_ids;
  std::vector<const DocumentOutcome*> unchanged;
  std::vector<const DocumentOutcome*> each;
  for (const DocumentOutcome& d : outcomes) {
    // An id the JSON array cannot carry (not UTF-8) goes through the upsert.
    if (d.status == "unchanged" && IsValidUtf8(d.source_id)) {
      unchanged_ids.insert(d.source_id);
      unchanged.push_back(&d);
    } else {
      each.push_back(&d);
    }
  }
  const auto settle_unchanged = [&](size_t* rows) {
    if (unchanged.empty()) return Status::Ok();
    // `+env`: a plain scan of the table, not a lookup per row through the
    // primary key's index.
    Statement scan(db_,
                   "SELECT source_id, last_status <> 'unchanged' OR consecutive_failures <> 0 FROM documents "
                   "WHERE +env = ?1");
    scan.Bind(env);
    size_t present = 0;
    std::string stale = "[";
    int rc;
    while ((rc = scan.Step()) == SQLITE_ROW) {
      const std::string_view id = scan.View(0);
      if (!unchanged_ids.contains(id)) continue;
      ++present;
      if (scan.Int(1) == 0) continue;
      AppendJsonString(id, &stale);
      stale.push_back(',');
    }
    if (rc != SQLITE_DONE) return Error("read unchanged documents");
    if (present != unchanged.size()) {
      each.insert(each.end(), unchanged.begin(), unchanged.end());
      *rows = each.size();
      return Status::Ok();
    }
    if (stale.size() == 1) return Status::Ok();
    stale.back() = ']';
    Statement bulk(db_,
                   "UPDATE documents SET last_checked_at = ?1, last_status = 'unchanged', consecutive_failures = 0 "
                   "WHERE env = ?2 AND source_id IN (SELECT value FROM json_each(?3))");
    bulk.Bind(now).Bind(env).Bind(stale);
    return bulk.Step() == SQLITE_DONE ? Status::Ok() : Error("settle unchanged documents");
  };
  return StepRows(
      "INSERT INTO documents (env, source_id, source, path, checksum, size, last_checked_at, "
      "last_processed_at, last_status, consecutive_failures) "
      "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?7, ?8, CASE WHEN ?8 = 'failed' THEN 1 ELSE 0 END) "
      "ON CONFLICT (env, source_id) DO UPDATE SET last_checked_at = excluded.last_checked_at, "
      "last_status = excluded.last_status, consecutive_failures = CASE excluded.last_status "
      "WHEN 'failed' THEN documents.consecutive_failures + 1 "
      "WHEN 'quarantined' THEN documents.consecutive_failures ELSE 0 END, "
      "last_processed_at = CASE WHEN excluded.last_status = 'processed' THEN excluded.last_processed_at "
      "ELSE documents.last_processed_at END",
      each.size(),
      [&](Statement& settle, size_t i) {
        const DocumentOutcome& d = *each[i];
        settle.Bind(env).Bind(d.source_id).Bind(d.source).Bind(d.path).Bind(d.checksum);
        settle.Bind(static_cast<int64_t>(d.size)).Bind(now).Bind(d.status);
        return "settle document " + std::string(d.path);
      },
      "state_record", settle_unchanged);
}

Result<std::optional<StoredSource>> StateStore::Source(const std::string& env, const std::string& name) {
  Statement query(db_, "SELECT last_checked_at, last_status FROM sources WHERE env = ? AND name = ?");
  query.Bind(env).Bind(name);
  int rc = query.Step();
  if (rc == SQLITE_DONE) return std::optional<StoredSource>();
  if (rc != SQLITE_ROW) return Error("read source " + name);
  return std::optional<StoredSource>(StoredSource{name, query.Text(0), query.Text(1)});
}

Status StateStore::PutSource(const std::string& env, const std::string& name, const std::string& kind,
                             const std::string& status, bool checked, const std::string& now) {
  Statement put(
      db_,
      "INSERT INTO sources (env, name, kind, last_checked_at, last_processed_at, last_status) "
      "VALUES (?1, ?2, ?3, CASE WHEN ?4 THEN ?5 ELSE '' END, CASE WHEN ?6 = 'processed' THEN ?5 ELSE '' END, ?6) "
      "ON CONFLICT (env, name) DO UPDATE SET kind = excluded.kind, last_status = excluded.last_status, "
      "last_checked_at = CASE WHEN ?4 THEN ?5 ELSE sources.last_checked_at END, "
      "last_processed_at = CASE WHEN ?6 = 'processed' THEN ?5 ELSE sources.last_processed_at END");
  put.Bind(env).Bind(name).Bind(kind).Bind(static_cast<int64_t>(checked)).Bind(now).Bind(status);
  return put.Step() == SQLITE_DONE ? Status::Ok() : Error("write source " + name);
}

Status StateStore::RecordRunStart(const StoredRun& run) {
  Statement insert(db_,
                   "INSERT INTO runs (run_id, env, job_id, job_dir, trigger, flags, started_at, status, request_id, "
                   "options, scheduled_for) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
  insert.Bind(run.run_id.value).Bind(run.env).Bind(run.job_id).Bind(run.job_dir).Bind(run.trigger).Bind(run.flags);
  insert.Bind(run.started_at).Bind(run.status).Bind(run.request_id).Bind(run.options_json).Bind(run.scheduled_for);
  return insert.Step() == SQLITE_DONE ? Status::Ok() : Error("record run " + run.run_id.value);
}

Status StateStore::RecordRunEnd(const StoredRun& run) {
  Statement update(db_,
                   "UPDATE runs SET ended_at = ?, status = ?, exit_code = ?, summary = ?, report_path = ?, "
                   "cancel_reason = ? WHERE run_id = ?");
  update.Bind(run.ended_at).Bind(run.status).Bind(static_cast<int64_t>(run.exit_code)).Bind(run.summary_json);
  update.Bind(run.report_path).Bind(run.cancel_reason).Bind(run.run_id.value);
  return update.Step() == SQLITE_DONE ? Status::Ok() : Error("record end of run " + run.run_id.value);
}

Status StateStore::RecordPass(const RunId& run_id, const std::string& pass, const std::string& status,
                              const std::string& started_at, const std::string& ended_at, uint32_t tasks,
                              uint32_t reused, uint64_t records, const std::string& sha256) {
  Statement insert(db_,
                   "INSERT INTO pass_records (run_id, pass, status, started_at, ended_at, tasks, reused, records, "
                   "sha256) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)");
  insert.Bind(run_id.value).Bind(pass).Bind(status).Bind(started_at).Bind(ended_at).Bind(static_cast<int64_t>(tasks));
  insert.Bind(static_cast<int64_t>(reused)).Bind(static_cast<int64_t>(records)).Bind(sha256);
  return insert.Step() == SQLITE_DONE ? Status::Ok() : Error("record pass " + pass + " of " + run_id.value);
}

Status StateStore::RecordChanges(const std::string& env, const RunId& run_id, const std::vector<ChangeEvent>& changes,
                                 const std::string& now) {
  return StepRows(
      "INSERT INTO change_events (env, run_id, source, source_id, path, change, checksum, "
      "previous_checksum, detected_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
      changes.size(), [&](Statement& insert, size_t i) {
        const ChangeEvent& c = changes[i];
        insert.Bind(env).Bind(run_id.value).Bind(c.source).Bind(c.source_id).Bind(c.path).Bind(c.change);
        insert.Bind(c.checksum).Bind(c.previous_checksum).Bind(now);
        return "record change of " + c.path;
      });
}

Status StateStore::RecordAudit(const std::string& env, const RunId& run_id, const std::string& event_type,
                               const std::string& payload, const std::string& now) {
  Statement insert(db_,
                   "INSERT INTO audit_events (env, run_id, event_type, payload, created_at) VALUES (?, ?, ?, ?, ?)");
  insert.Bind(env).Bind(run_id.value).Bind(event_type).Bind(payload).Bind(now);
  return insert.Step() == SQLITE_DONE ? Status::Ok() : Error("record audit event " + event_type);
}

Result<std::optional<StoredRun>> StateStore::LastSuccessfulRun(const std::string& env,
                                                               const std::string& except_job_id) {
  Statement query(db_,
                  "SELECT run_id, job_id, job_dir, started_at, status FROM runs WHERE env = ? AND job_id != ? "
                  "AND status IN ('completed', 'partial') ORDER BY started_at DESC, run_id DESC LIMIT 1");
  query.Bind(env).Bind(except_job_id);
  int rc = query.Step();
  if (rc == SQLITE_DONE) return std::optional<StoredRun>();
  if (rc != SQLITE_ROW) return Error("read runs");
  StoredRun run;
  run.run_id = RunId{query.Text(0)};
  run.env = env;
  run.job_id = query.Text(1);
  run.job_dir = query.Text(2);
  run.started_at = query.Text(3);
  run.status = query.Text(4);
  return std::optional<StoredRun>(std::move(run));
}

Result<std::optional<std::string>> StateStore::LastRunStart(const std::string& env) {
  Statement query(db_, "SELECT MAX(started_at) FROM runs WHERE env = ?");
  query.Bind(env);
  if (query.Step() != SQLITE_ROW) return Error("read runs");
  std::string started = query.Text(0);
  if (started.empty()) return std::optional<std::string>();
  return std::optional<std::string>(started);
}

Result<int64_t> StateStore::Count(const std::string& table, const std::string& env) {
  static const char* const kTables[] = {"runs", "change_events", "audit_events", "documents", "sources"};
  if (std::find(std::begin(kTables), std::end(kTables), table) == std::end(kTables)) {
    return InvalidArgument("no table " + table);
  }
  Statement query(db_, ("SELECT COUNT(*) FROM " + table + " WHERE env = ?").c_str());
  query.Bind(env);
  if (query.Step() != SQLITE_ROW) return Error("count " + table);
  return query.Int(0);
}

}  // namespace ingest
