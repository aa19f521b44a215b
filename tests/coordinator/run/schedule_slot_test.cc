#include "coordinator/run/schedule_slot.h"

#include "common/manifest.h"
#include "tests/testing/testing.h"

namespace ingest {
namespace {

using ::testing::HasSubstr;

TEST(ScheduleSlotTest, ATimeWithItsZoneOrACronJobsJobNameIsTheSlotInUtcToTheSecond) {
  EXPECT_EQ(*ParseScheduleSlot("2026-12-06T02:00:00Z"), "2026-12-06T02:00:00Z");
  EXPECT_EQ(*ParseScheduleSlot("2026-12-06T03:00:00+01:00"), "2026-12-06T02:00:00Z");
  EXPECT_EQ(*ParseScheduleSlot("2026-12-05T21:00:00-05:00"), "2026-12-06T02:00:00Z");
  EXPECT_EQ(*ParseScheduleSlot("2026-12-06T02:00:00.750Z"), "2026-12-06T02:00:00Z");
  // How the CronJob controller names the Job of that slot.
  EXPECT_EQ(*ParseScheduleSlot("ingestfleet-nightly-29942040"), "2026-12-06T02:00:00Z");
  EXPECT_EQ(*ParseScheduleSlot("a-29942040"), "2026-12-06T02:00:00Z");
  // As the Pod of a Job sees its name: one made by hand has no slot.
  EXPECT_EQ(*ParseScheduleSlot("job:ingestfleet-coordinator-29942040"), "2026-12-06T02:00:00Z");
  EXPECT_EQ(*ParseScheduleSlot("job:rerun-by-hand"), "");
  EXPECT_EQ(*ParseScheduleSlot("job:manual-1796522400"), "") << "seconds (date +%s) are not the minutes of a slot";
  for (const char* bad : {"", "tomorrow", "2026-12-06 02:00", "2026-12-06T02:00:00", "nightly-42", "nightly-2994204x",
                          "nightly-1796522400", "29942040"}) {
    Result<std::string> slot = ParseScheduleSlot(bad);
    ASSERT_FALSE(slot.ok()) << bad << " gave " << *slot;
    EXPECT_EQ(slot.status().code(), StatusCode::kInvalidArgument);
    EXPECT_THAT(slot.status().message(), HasSubstr(std::string("'") + bad + "'"));
  }
}

TEST(ScheduleSlotTest, TheLatestRunOfASlotDecidesWhetherToRunResumeOrStop) {
  EXPECT_EQ(ActionForSlot(std::nullopt), SlotAction::kRun);
  StoredRun run{.job_dir = "/jobs/job_1"};
  for (const char* status : {kJobCompleted, kJobPartial}) {
    run.status = status;
    EXPECT_EQ(ActionForSlot(run), SlotAction::kDone) << status;
  }
  for (const char* status : {"failed", "cancelled", "running"}) {
    run.status = status;
    EXPECT_EQ(ActionForSlot(run), SlotAction::kResume) << status;
  }
  run.job_dir.clear();  // it ended before it had a job: nothing to resume
  EXPECT_EQ(ActionForSlot(run), SlotAction::kRun);
}

}  // namespace
}  // namespace ingest
