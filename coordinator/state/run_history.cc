// StateStore's reads of run history, for the admin API: one run, a page of
// runs, a run's passes, the run of a request id.

#include "coordinator/state/state_store.h"
#include "coordinator/state/statement.h"

namespace ingest {
namespace {

using state_internal::Statement;

constexpr const char* kRunColumns =
    "run_id, env, job_id, job_dir, trigger, flags, started_at, ended_at, status, exit_code, summary, request_id, "
    "options, report_path, cancel_reason, scheduled_for";

StoredRun ReadRun(const Statement& row) {
  return StoredRun{.run_id = RunId{row.Text(0)},
                   .env = row.Text(1),
                   .job_id = row.Text(2),
                   .job_dir = row.Text(3),
                   .trigger = row.Text(4),
                   .flags = row.Text(5),
                   .started_at = row.Text(6),
                   .ended_at = row.Text(7),
                   .status = row.Text(8),
                   .exit_code = static_cast<int>(row.Int(9)),
                   .summary_json = row.Text(10),
                   .request_id = row.Text(11),
                   .options_json = row.Text(12),
                   .report_path = row.Text(13),
                   .cancel_reason = row.Text(14),
                   .scheduled_for = row.Text(15)};
}

}  // namespace

Result<StoredRun> StateStore::Run(const RunId& run_id) {
  const std::string sql = std::string("SELECT ") + kRunColumns + " FROM runs WHERE run_id = ?";
  Statement query(db_, sql.c_str());
  query.Bind(run_id.value);
  const int rc = query.Step();
  if (rc == SQLITE_DONE) return NotFound("no run " + run_id.value + " in the state store " + path_.string());
  if (rc != SQLITE_ROW) return Error("read run " + run_id.value);
  return ReadRun(query);
}

Result<std::vector<StoredRun>> StateStore::Runs(const std::string& env, const std::string& status,
                                                const std::optional<RunCursor>& cursor, int limit) {
  // Newest first; a cursor continues strictly after the last run listed, so
  // runs started meanwhile never shift a later page.
  const std::string sql = std::string("SELECT ") + kRunColumns +
                          " FROM runs WHERE env = ?1 AND (?2 = '' OR status = ?2) AND (?3 = 0 OR started_at < ?4 "
                          "OR (started_at = ?4 AND run_id < ?5)) ORDER BY started_at DESC, run_id DESC LIMIT ?6";
  Statement query(db_, sql.c_str());
  query.Bind(env).Bind(status).Bind(int64_t{cursor ? 1 : 0});
  query.Bind(cursor ? cursor->started_at : "").Bind(cursor ? cursor->run_id.value : "").Bind(int64_t{limit});
  std::vector<StoredRun> runs;
  int rc;
  while ((rc = query.Step()) == SQLITE_ROW) runs.push_back(ReadRun(query));
  if (rc != SQLITE_DONE) return Error("list runs");
  return runs;
}

Result<std::map<RunId, std::vector<StoredPass>>> StateStore::Passes(const std::vector<RunId>& run_ids) {
  std::map<RunId, std::vector<StoredPass>> passes;
  if (run_ids.empty()) return passes;
  std::string sql =
      "SELECT run_id, pass, status, started_at, ended_at, tasks, reused, records FROM pass_records WHERE run_id IN (?";
  for (size_t i = 1; i < run_ids.size(); ++i) sql += ", ?";
  sql += ") ORDER BY run_id, pass";
  Statement query(db_, sql.c_str());
  for (const RunId& id : run_ids) query.Bind(id.value);
  int rc;
  while ((rc = query.Step()) == SQLITE_ROW) {
    passes[RunId{query.Text(0)}].push_back({.pass = query.Text(1),
                                            .status = query.Text(2),
                                            .started_at = query.Text(3),
                                            .ended_at = query.Text(4),
                                            .tasks = static_cast<uint32_t>(query.Int(5)),
                                            .reused = static_cast<uint32_t>(query.Int(6)),
                                            .records = static_cast<uint64_t>(query.Int(7))});
  }
  if (rc != SQLITE_DONE) return Error("read passes of " + std::to_string(run_ids.size()) + " runs");
  return passes;
}

Result<std::vector<StoredPass>> StateStore::Passes(const RunId& run_id) {
  INGEST_ASSIGN_OR_RETURN(auto passes, Passes(std::vector<RunId>{run_id}));
  return std::move(passes[run_id]);
}

Result<std::optional<StoredRun>> StateStore::FirstRun(const std::string& where_order, const std::string& env,
                                                      const std::string& value, const std::string& what) {
  const std::string sql = std::string("SELECT ") + kRunColumns + " FROM runs WHERE " + where_order + " LIMIT 1";
  Statement query(db_, sql.c_str());
  query.Bind(env).Bind(value);
  const int rc = query.Step();
  if (rc == SQLITE_DONE) return std::optional<StoredRun>();
  if (rc != SQLITE_ROW) return Error("read run of " + what);
  return std::optional<StoredRun>(ReadRun(query));
}

Result<std::optional<StoredRun>> StateStore::RunWithRequestId(const std::string& env, const std::string& request_id) {
  return FirstRun("env = ? AND request_id = ?", env, request_id, "request " + request_id);
}

Result<std::optional<StoredRun>> StateStore::LatestRunOfSlot(const std::string& env, const std::string& scheduled_for) {
  return FirstRun("env = ? AND scheduled_for = ? ORDER BY started_at DESC, run_id DESC", env, scheduled_for,
                  "schedule slot " + scheduled_for);
}

}  // namespace ingest
