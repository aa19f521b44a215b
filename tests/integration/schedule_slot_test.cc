// One schedule slot, one outcome: runs of the real coordinator for the same
// --scheduled-for, as a CronJob that starts a Job twice or retries a failed
// one would make them, with a real webhook receiver counting notifications
// and the real state store.

#include <signal.h>

#include "coordinator/state/state_store.h"
#include "tests/integration/job_fixture.h"
#include "tests/testing/http_recorder.h"

namespace ingest {
namespace {

using ::testing::HasSubstr;
using testing::HttpRecorder;
using testing::kRunTimeout;
using testing::RecordedRequest;
using testing::Reply;
using testing::RunOutcome;
using testing::Subprocess;
using namespace std::chrono_literals;

constexpr char kSlot[] = "2026-12-06T02:00:00Z";
// The name a CronJob gives its Job for that slot: minutes since the epoch.
constexpr char kJobName[] = "ingestfleet-nightly-29942040";

class ScheduleSlotTest : public testing::JobTest {
 protected:
  void SetUp() override {
    JobTest::SetUp();
    hook_.Handle("/hook", [](const RecordedRequest&, size_t) { return Reply{200, "ok"}; });
    extra_config_ = "notifications:\n  on: [completed, partial, failed, cancelled]\n  webhook: { url: \"" +
                    hook_.url("/hook") + "\" }\n";
    WriteConfig(1, 20);
    keep_config_ = true;
  }

  // A coordinator with its own local worker, for `slot`.
  std::unique_ptr<Subprocess> Start(const std::string& tag, const std::string& slot,
                                    const std::vector<std::string>& env = {}) {
    return std::make_unique<Subprocess>(
        std::vector<std::string>{Bin("ingest-coordinator"), "run", "--config", (dir_.path() / "ingest.yaml").string(),
                                 "--bind", "tcp://127.0.0.1:*", "--manual", "--local-workers", "1", "--scheduled-for",
                                 slot},
        dir_.path() / (tag + ".out"), dir_.path() / (tag + ".err"), env);
  }

  RunSummary LastSummary(const Subprocess& coordinator) {
    RunSummary summary;
    EXPECT_OK(FromJson(testing::LastLine(coordinator.Stdout()), &summary)) << coordinator.Stdout();
    return summary;
  }

  // The runs the state store recorded for kSlot.
  std::vector<StoredRun> RunsOfSlot() {
    Result<StateStore> store = StateStore::Open(dir_.path() / "state" / "ingest.db");
    EXPECT_OK(store.status());
    std::vector<StoredRun> runs;
    if (!store.ok()) return runs;
    Result<std::vector<StoredRun>> all = store->Runs("itest", "", std::nullopt, 100);
    EXPECT_OK(all.status());
    for (const StoredRun& run : *all) {
      if (run.scheduled_for == kSlot) runs.push_back(run);
    }
    return runs;
  }

  HttpRecorder hook_;
};

TEST_F(ScheduleSlotTest, ASecondRunForACompletedSlotExitsZeroAtOnceWithoutASecondNotification) {
  auto first = Start("first", kSlot);
  ASSERT_EQ(first->Wait(testing::Scaled(kRunTimeout)), 0) << first->Stderr();
  const RunSummary done = LastSummary(*first);
  EXPECT_EQ(done.status(), "completed");
  ASSERT_EQ(hook_.Requests("/hook").size(), 1u);

  // Again, once by the time and once by the CronJob's Job name.
  for (const std::string slot : {kSlot, kJobName}) {
    auto again = Start("again-" + std::to_string(slot.size()), slot);
    ASSERT_EQ(again->Wait(testing::Scaled(30s)), 0) << again->Stderr();
    EXPECT_THAT(again->Stderr(), HasSubstr("schedule slot 2026-12-06T02:00:00Z already has its outcome: run " +
                                           done.run_id() + " ended completed (exit 0); nothing to do"));
    EXPECT_THAT(again->Stderr(), ::testing::Not(HasSubstr("pass A started")));
    // A log parser reads the slot's outcome.
    EXPECT_EQ(LastSummary(*again).run_id(), done.run_id());
  }
  EXPECT_EQ(hook_.Requests("/hook").size(), 1u) << "one notification per slot";
  EXPECT_EQ(RunsOfSlot().size(), 1u);

  // Another slot is another run.
  auto next = Start("next", "2026-12-07T02:00:00Z");
  ASSERT_EQ(next->Wait(testing::Scaled(kRunTimeout)), 0) << next->Stderr();
  EXPECT_NE(LastSummary(*next).run_id(), done.run_id());
  EXPECT_EQ(hook_.Requests("/hook").size(), 2u);
}

TEST_F(ScheduleSlotTest, TwoRunsForOneSlotStartedTogetherRunItOnce) {
  auto a = Start("a", kSlot);
  auto b = Start("b", kJobName);
  ASSERT_EQ(a->Wait(testing::Scaled(kRunTimeout)), 0) << a->Stderr();
  ASSERT_EQ(b->Wait(testing::Scaled(kRunTimeout)), 0) << b->Stderr();
  const std::string both = a->Stderr() + b->Stderr();
  // One of them ran the slot; the other found it running (or, had it come
  // late, done) and did nothing.
  const size_t ran = (a->Stderr().find("pass F SUCCESS") != std::string::npos ? 1 : 0) +
                     (b->Stderr().find("pass F SUCCESS") != std::string::npos ? 1 : 0);
  EXPECT_EQ(ran, 1u) << both;
  EXPECT_TRUE(both.find("schedule slot 2026-12-06T02:00:00Z is being run by run ") != std::string::npos ||
              both.find("already has its outcome") != std::string::npos)
      << both;
  EXPECT_EQ(LastSummary(*a).run_id(), LastSummary(*b).run_id()) << "both name the slot's run";
  EXPECT_EQ(hook_.Requests("/hook").size(), 1u);
  EXPECT_EQ(RunsOfSlot().size(), 1u);
}

TEST_F(ScheduleSlotTest, ARunForASlotWhoseRunDiedResumesItsJob) {
  // Killed as by a power cut once pass C's results are in, before its
  // artifact is renamed into place: passes A and B are done, C is not.
  auto killed = Start("killed", kSlot, {"INGEST_CRASH_POINT=before_rename:passC_chunks.json"});
  ASSERT_EQ(killed->Wait(testing::Scaled(kRunTimeout)), 128 + SIGKILL) << killed->Stderr();
  std::vector<StoredRun> runs = RunsOfSlot();
  ASSERT_EQ(runs.size(), 1u);
  EXPECT_EQ(runs[0].status, "running") << "a killed run records no outcome";
  EXPECT_EQ(hook_.Requests("/hook").size(), 0u);

  // The retried Job: it resumes the job of the slot, not a new one.
  auto retried = Start("retried", kJobName);
  ASSERT_EQ(retried->Wait(testing::Scaled(kRunTimeout)), 0) << retried->Stderr();
  EXPECT_THAT(retried->Stderr(), HasSubstr("schedule slot 2026-12-06T02:00:00Z: run " + runs[0].run_id.value +
                                           " ended without recording an outcome (its process died); resuming its "
                                           "job " +
                                           runs[0].job_dir));
  const RunSummary resumed = LastSummary(*retried);
  EXPECT_EQ(resumed.status(), "completed");
  EXPECT_EQ(resumed.job_dir(), runs[0].job_dir);
  // Passes A and B were done: the resume starts at pass C.
  EXPECT_THAT(retried->Stderr(), ::testing::Not(HasSubstr("pass A started")));
  EXPECT_THAT(retried->Stderr(), HasSubstr("pass C started"));
  EXPECT_EQ(hook_.Requests("/hook").size(), 1u);

  auto third = Start("third", kSlot);
  ASSERT_EQ(third->Wait(testing::Scaled(30s)), 0) << third->Stderr();
  EXPECT_THAT(third->Stderr(), HasSubstr("already has its outcome: run " + resumed.run_id()));
  EXPECT_EQ(hook_.Requests("/hook").size(), 1u);
}

TEST_F(ScheduleSlotTest, ASlotThatIsNeitherATimeNorAJobNameIsAUsageError) {
  auto bad = Start("bad", "tomorrow-ish");
  EXPECT_EQ(bad->Wait(testing::Scaled(30s)), 2);
  EXPECT_THAT(bad->Stderr(), HasSubstr("--scheduled-for 'tomorrow-ish' is neither an RFC 3339 time"));
  EXPECT_THAT(LastSummary(*bad).errors().first(0), HasSubstr("tomorrow-ish"));
}

}  // namespace
}  // namespace ingest
