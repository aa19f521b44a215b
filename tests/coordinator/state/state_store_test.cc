#include "coordinator/state/state_store.h"

#include <spdlog/spdlog.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <thread>

#include "common/manifest.h"
#include "tests/testing/testing.h"

namespace ingest {
namespace {

using ::testing::HasSubstr;
using testing::TempDir;
using namespace std::chrono_literals;

class StateStoreTest : public ::testing::Test {
 protected:
  TempDir dir_;
  std::filesystem::path db_ = dir_.path() / "state" / "ingest.db";

  // Runs SQL on the file behind the store's back, as an operator with sqlite3 would.
  int Raw(const std::string& sql) {
    sqlite3* db = nullptr;
    sqlite3_open(db_.c_str(), &db);
    int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr);
    sqlite3_close(db);
    return rc;
  }
  // The first column of the first row `sql` answers, as text ("" for none).
  std::string RawText(const std::string& sql) {
    sqlite3* db = nullptr;
    sqlite3_open(db_.c_str(), &db);
    sqlite3_stmt* stmt = nullptr;
    std::string text;
    if (sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt, nullptr) == SQLITE_OK && sqlite3_step(stmt) == SQLITE_ROW) {
      const unsigned char* value = sqlite3_column_text(stmt, 0);
      if (value != nullptr) text = reinterpret_cast<const char*>(value);
    }
    sqlite3_finalize(stmt);
    sqlite3_close(db);
    return text;
  }
};

TEST_F(StateStoreTest, CreatesTheSchemaAndReopensWithoutMigratingAgain) {
  {
    Result<StateStore> store = StateStore::Open(db_);
    ASSERT_OK(store);
    EXPECT_EQ(store->schema_version(), StateStore::kSchemaVersion);
    ASSERT_OK(store->PutDocuments("dev", {{"doc_1", "rules", "a.md", "abc", 10, 99, "processed", 0}}, "t1"));
  }
  Result<StateStore> again = StateStore::Open(db_);
  ASSERT_OK(again);
  Result<std::map<std::string, StoredDocument>> docs = again->Documents("dev", "rules");
  ASSERT_OK(docs);
  ASSERT_EQ(docs->size(), 1u);
  EXPECT_EQ(docs->at("doc_1").checksum, "abc");
  EXPECT_EQ(docs->at("doc_1").mtime_ns, 99);
}

TEST_F(StateStoreTest, SettlingDocumentsCountsFailuresOnAndKeepsWhatDiscoveryWrote) {
  Result<StateStore> store = StateStore::Open(db_);
  ASSERT_OK(store);
  ASSERT_OK(store->PutDocuments("dev",
                                {{"doc_1", "rules", "a.md", "abc", 10, 99, "processed", 2, "etag-1", ""},
                                 {"doc_2", "rules", "b.md", "def", 20, 98, "processed", 1},
                                 {"doc_3", "rules", "c.md", "ghi", 30, 97, "quarantined", 3}},
                                "t1"));
  ASSERT_OK(store->SettleDocuments("dev",
                                   {{"doc_1", "rules", "a.md", "other", 11, kDocFailed},
                                    {"doc_2", "rules", "b.md", "def", 20, kDocProcessed},
                                    {"doc_3", "rules", "c.md", "ghi", 30, kDocQuarantined},
                                    {"doc_4", "rules", "d.md", "jkl", 40, kDocFailed}},
                                   "t2"));
  Result<std::map<std::string, StoredDocument>> docs = store->Documents("dev", "rules");
  ASSERT_OK(docs);
  ASSERT_EQ(docs->size(), 4u);
  const StoredDocument& failed = docs->at("doc_1");
  EXPECT_EQ(failed.last_status, kDocFailed);
  EXPECT_EQ(failed.consecutive_failures, 3u);
  // Discovery's view of the file stays: the next run compares against it.
  EXPECT_EQ(failed.checksum, "abc");
  EXPECT_EQ(failed.mtime_ns, 99);
  EXPECT_EQ(failed.etag, "etag-1");
  EXPECT_EQ(docs->at("doc_2").consecutive_failures, 0u);
  EXPECT_EQ(docs->at("doc_3").consecutive_failures, 3u);
  const StoredDocument& unknown = docs->at("doc_4");
  EXPECT_EQ(unknown.path, "d.md");
  EXPECT_EQ(unknown.checksum, "jkl");
  EXPECT_EQ(unknown.size, 40u);
  EXPECT_EQ(unknown.consecutive_failures, 1u);
}

TEST_F(StateStoreTest,
       UnchangedDocumentsSettleAsTheUpsertWouldLeavingRowsThatSayUnchangedAndOneWithoutARowIsWrittenToo) {
  Result<StateStore> store = StateStore::Open(db_);
  ASSERT_OK(store);
  ASSERT_OK(store->PutDocuments("dev",
                                {{"doc_1", "rules", "a.md", "abc", 10, 99, "processed", 2},
                                 {"doc_\"2", "rules", "b.md", "def", 20, 98, "unchanged", 0},
                                 {"doc_3", "rules", "c.md", "ghi", 30, 97, "processed", 0}},
                                "t1"));
  // The unchanged ones all have their rows: one statement settles them.
  ASSERT_OK(store->SettleDocuments("dev",
                                   {{"doc_1", "rules", "a.md", "abc", 10, kDocUnchanged},
                                    {"doc_\"2", "rules", "b.md", "def", 20, kDocUnchanged},
                                    {"doc_3", "rules", "c.md", "ghi", 30, kDocProcessed}},
                                   "t2"));
  Result<std::map<std::string, StoredDocument>> docs = store->Documents("dev", "rules");
  ASSERT_OK(docs);
  EXPECT_EQ(docs->at("doc_1").last_status, kDocUnchanged);
  EXPECT_EQ(docs->at("doc_1").consecutive_failures, 0u);
  EXPECT_EQ(docs->at("doc_\"2").last_status, kDocUnchanged);
  // A row that said unchanged already is not written again: its source's
  // last_checked_at says when it was checked.
  EXPECT_EQ(RawText("SELECT count(*) FROM documents WHERE last_checked_at = 't2'"), "2");
  EXPECT_EQ(RawText("SELECT last_checked_at FROM documents WHERE source_id = 'doc_\"2'"), "t1");
  EXPECT_EQ(RawText("SELECT last_processed_at FROM documents WHERE source_id = 'doc_1'"), "t1");
  EXPECT_EQ(RawText("SELECT last_processed_at FROM documents WHERE source_id = 'doc_3'"), "t2");
  // An unchanged document the store has no row of (it cannot happen in a
  // run, but the store does not rely on it): every unchanged one upserted.
  ASSERT_OK(store->SettleDocuments(
      "dev",
      {{"doc_1", "rules", "a.md", "abc", 10, kDocUnchanged}, {"doc_9", "rules", "z.md", "xyz", 90, kDocUnchanged}},
      "t3"));
  docs = store->Documents("dev", "rules");
  ASSERT_OK(docs);
  ASSERT_EQ(docs->size(), 4u);
  EXPECT_EQ(docs->at("doc_9").path, "z.md");
  EXPECT_EQ(docs->at("doc_9").last_status, kDocUnchanged);
  EXPECT_EQ(RawText("SELECT count(*) FROM documents WHERE last_checked_at = 't3'"), "2");
}

TEST_F(StateStoreTest, ConnectionsOpeningANewStoreAtOnceMigrateItOnce) {
  constexpr int kOpeners = 8;
  // spdlog's registry made here, as a process makes it (InitLogging) before
  // its threads: made by the first of them to log, it is handed to the
  // others by the guard of a static in prebuilt spdlog, which TSan cannot see.
  spdlog::default_logger();
  std::vector<std::thread> openers;
  openers.reserve(kOpeners);
  std::vector<Status> results(kOpeners);
  for (int i = 0; i < kOpeners; ++i) {
    openers.emplace_back([this, &results, i] {
      Result<StateStore> store = StateStore::Open(db_);
      results[i] = store.ok() ? Status::Ok() : store.status();
    });
  }
  for (std::thread& t : openers) t.join();
  for (const Status& r : results) EXPECT_OK(r);
  Result<StateStore> store = StateStore::Open(db_);
  ASSERT_OK(store);
  EXPECT_EQ(store->schema_version(), StateStore::kSchemaVersion);
}

TEST_F(StateStoreTest, HistoryIsAppendOnly) {
  Result<StateStore> store = StateStore::Open(db_);
  ASSERT_OK(store);
  ASSERT_OK(store->RecordAudit("dev", RunId{"run_1"}, "ingestion_completed", "{}", "t1"));
  ASSERT_OK(store->RecordChanges("dev", RunId{"run_1"}, {{"rules", "doc_1", "a.md", "new", "abc", ""}}, "t1"));
  EXPECT_NE(Raw("DELETE FROM audit_events"), SQLITE_OK);
  EXPECT_NE(Raw("UPDATE change_events SET change = 'deleted'"), SQLITE_OK);
  EXPECT_EQ(*store->Count("audit_events", "dev"), 1);
  EXPECT_EQ(*store->Count("change_events", "dev"), 1);
  EXPECT_FALSE(store->RecordAudit("dev", RunId{"run_1"}, "made_up", "{}", "t1").ok());
}

TEST_F(StateStoreTest, ASecondRunOfTheEnvIsRefusedNamingTheHolder) {
  Result<StateStore> first = StateStore::Open(db_);
  Result<StateStore> second = StateStore::Open(db_);
  ASSERT_OK(first);
  ASSERT_OK(second);
  std::string broken;
  ASSERT_OK(first->AcquireLock("dev", RunId{"run_a"}, 120s, &broken, "2026-11-23T02:00:00Z"));
  Result<std::optional<LockHolder>> holder = second->Lock("dev", 120s);
  ASSERT_OK(holder);
  ASSERT_TRUE(holder->has_value());
  EXPECT_EQ((*holder)->scheduled_for, "2026-11-23T02:00:00Z") << "a run for the same slot can tell";
  Status refused = second->AcquireLock("dev", RunId{"run_b"}, 120s, &broken);
  EXPECT_EQ(refused.code(), StatusCode::kAborted);
  EXPECT_THAT(refused.message(), HasSubstr("env 'dev' is locked by run run_a (pid " + std::to_string(::getpid())));
  EXPECT_OK(second->AcquireLock("prod", RunId{"run_b"}, 120s, &broken));  // another env is independent
  ASSERT_OK(first->ReleaseLock("dev", RunId{"run_a"}));
  EXPECT_OK(second->AcquireLock("dev", RunId{"run_b"}, 120s, &broken));
  EXPECT_TRUE(broken.empty());
}

TEST_F(StateStoreTest, ALockLeftByADeadProcessOrAStoppedHeartbeatIsBroken) {
  pid_t child = ::fork();
  if (child == 0) ::_exit(0);
  ::waitpid(child, nullptr, 0);  // a pid that no longer exists
  char host[256] = {0};
  ::gethostname(host, sizeof host - 1);
  ASSERT_OK(StateStore::Open(db_));
  ASSERT_EQ(Raw("INSERT INTO locks (env, run_id, pid, host, acquired_at, heartbeat_unix) VALUES ('dev', 'run_dead', " +
                std::to_string(child) + ", '" + host + "', 't0', strftime('%s','now'))"),
            SQLITE_OK);
  Result<StateStore> store = StateStore::Open(db_);
  ASSERT_OK(store);
  std::string broken;
  ASSERT_OK(store->AcquireLock("dev", RunId{"run_new"}, 120s, &broken));
  EXPECT_THAT(broken, HasSubstr("run run_dead"));
  EXPECT_THAT(broken, HasSubstr("its process is gone"));

  // Another host's lock whose heartbeat is ten minutes old.
  ASSERT_EQ(Raw("UPDATE locks SET run_id = 'run_far', host = 'elsewhere', heartbeat_unix = strftime('%s','now') - 600"),
            SQLITE_OK);
  broken.clear();
  ASSERT_OK(store->AcquireLock("dev", RunId{"run_next"}, 120s, &broken));
  EXPECT_THAT(broken, HasSubstr("its heartbeat stopped"));
}

TEST_F(StateStoreTest, AFileThatIsNotADatabaseIsDataLossAndIsLeftAlone) {
  std::filesystem::create_directories(db_.parent_path());
  std::ofstream(db_) << std::string(4096, 'x');
  Result<StateStore> store = StateStore::Open(db_);
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.status().code(), StatusCode::kDataLoss);
  EXPECT_THAT(store.status().message(), HasSubstr(db_.string()));
  EXPECT_EQ(testing::ReadAll(db_), std::string(4096, 'x'));
}

TEST_F(StateStoreTest, AStoreFromANewerBuildIsRefused) {
  ASSERT_OK(StateStore::Open(db_));
  ASSERT_EQ(Raw("PRAGMA user_version = 99"), SQLITE_OK);
  Result<StateStore> store = StateStore::Open(db_);
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_THAT(store.status().message(), HasSubstr("schema v99"));
}

TEST_F(StateStoreTest, ReadOnlyOpenCreatesNothing) {
  Result<std::optional<StateStore>> none = StateStore::OpenReadOnly(db_);
  ASSERT_OK(none);
  EXPECT_FALSE(none->has_value());
  EXPECT_FALSE(std::filesystem::exists(db_.parent_path()));
}

TEST_F(StateStoreTest, LastSuccessfulRunSkipsFailedRunsAndTheCurrentJob) {
  Result<StateStore> store = StateStore::Open(db_);
  ASSERT_OK(store);
  auto run = [&](const std::string& id, const std::string& job, const std::string& started, const std::string& status) {
    StoredRun r{.run_id = RunId{id},
                .env = "dev",
                .job_id = job,
                .job_dir = "/jobs/" + job,
                .trigger = "schedule",
                .flags = "",
                .started_at = started,
                .status = status};
    ASSERT_OK(store->RecordRunStart(r));
  };
  run("run_1", "job_1", "2026-11-20T02:00:00.000Z", "completed");
  run("run_2", "job_2", "2026-11-21T02:00:00.000Z", "failed");
  run("run_3", "job_3", "2026-11-22T02:00:00.000Z", "running");
  Result<std::optional<StoredRun>> last = store->LastSuccessfulRun("dev", "job_3");
  ASSERT_OK(last);
  ASSERT_TRUE(last->has_value());
  EXPECT_EQ((*last)->job_dir, "/jobs/job_1");
}

TEST_F(StateStoreTest, RunsArePagedNewestFirstAndFoundByRequestId) {
  Result<StateStore> store = StateStore::Open(db_);
  ASSERT_OK(store);
  for (int i = 1; i <= 5; ++i) {
    StoredRun r{.run_id = RunId{"run_" + std::to_string(i)},
                .env = "dev",
                .job_id = "job_" + std::to_string(i),
                .job_dir = "/jobs",
                .trigger = "api",
                .flags = "",
                .started_at = "2026-11-2" + std::to_string(i) + "T02:00:00.000Z",
                .status = "running",
                .request_id = i == 3 ? "req-3" : "",
                .scheduled_for = i >= 3 ? "2026-11-23T02:00:00Z" : ""};
    ASSERT_OK(store->RecordRunStart(r));
    r.status = i == 2 ? "failed" : "completed";
    r.ended_at = r.started_at;
    r.report_path = i == 2 ? "/reports/RUN-2.md" : "";
    ASSERT_OK(store->RecordRunEnd(r));
  }
  Result<std::vector<StoredRun>> first = store->Runs("dev", "", std::nullopt, 2);
  ASSERT_OK(first);
  ASSERT_EQ(first->size(), 2u);
  EXPECT_EQ((*first)[0].run_id.value, "run_5");
  EXPECT_EQ((*first)[1].run_id.value, "run_4");
  Result<std::vector<StoredRun>> next =
      store->Runs("dev", "", RunCursor{(*first)[1].started_at, (*first)[1].run_id}, 10);
  ASSERT_OK(next);
  ASSERT_EQ(next->size(), 3u);
  EXPECT_EQ((*next)[0].run_id.value, "run_3");
  Result<std::vector<StoredRun>> failed = store->Runs("dev", "failed", std::nullopt, 10);
  ASSERT_OK(failed);
  ASSERT_EQ(failed->size(), 1u);
  EXPECT_EQ((*failed)[0].report_path, "/reports/RUN-2.md");
  Result<std::optional<StoredRun>> by_request = store->RunWithRequestId("dev", "req-3");
  ASSERT_OK(by_request);
  ASSERT_TRUE(by_request->has_value());
  EXPECT_EQ((*by_request)->run_id.value, "run_3");
  EXPECT_EQ(store->Run(RunId{"run_9"}).status().code(), StatusCode::kNotFound);
  Result<std::optional<StoredRun>> of_slot = store->LatestRunOfSlot("dev", "2026-11-23T02:00:00Z");
  ASSERT_OK(of_slot);
  ASSERT_TRUE(of_slot->has_value());
  EXPECT_EQ((*of_slot)->run_id.value, "run_5") << "the latest of the slot's runs";
  EXPECT_EQ((*of_slot)->scheduled_for, "2026-11-23T02:00:00Z");
  ASSERT_OK(store->LatestRunOfSlot("dev", "2026-11-24T02:00:00Z"));
  EXPECT_FALSE(store->LatestRunOfSlot("dev", "2026-11-24T02:00:00Z")->has_value());
  EXPECT_FALSE(store->LatestRunOfSlot("prod", "2026-11-23T02:00:00Z")->has_value());
}

}  // namespace
}  // namespace ingest
