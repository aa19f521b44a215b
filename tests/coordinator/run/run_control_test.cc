#include "coordinator/run/run_control.h"

#include <thread>

#include "common/manifest.h"
#include "tests/testing/testing.h"

namespace ingest {
namespace {

using namespace std::chrono_literals;

RunControl NewControl() {
  admin::Run run;
  run.set_run_id("run_20261202_020000_1");
  return RunControl(run, false);
}

TEST(RunControlTest, AWatcherSeesTheSnapshotThenEveryEventUntilTheRunEnds) {
  RunControl control = NewControl();
  RunControl::Watch watch = control.StartWatch();
  EXPECT_EQ(watch.snapshot.state(), admin::RUN_STATE_QUEUED);
  control.Started("job_1", "/jobs/job_1", {Pass::PASS_A, Pass::PASS_B}, std::chrono::system_clock::now());
  control.PassStarted(Pass::PASS_A, 10, 2);
  control.Progress(Pass::PASS_A, 5, 10, 1, 2);
  control.Progress(Pass::PASS_A, 6, 10, 1, 2);  // within half a second: dropped
  PassRecord record;
  record.set_status(kPassSuccess);
  record.mutable_metrics()->set_tasks_total(10);
  control.PassEnded(Pass::PASS_A, record, "");
  std::vector<admin::RunEvent> events = control.Next(&watch.cursor, 0ms);
  ASSERT_EQ(events.size(), 4u);
  EXPECT_TRUE(events[0].has_snapshot());
  EXPECT_EQ(events[1].pass_started().tasks_reused(), 2u);
  EXPECT_EQ(events[2].progress().tasks_done(), 5u);
  EXPECT_EQ(events[3].pass_ended().pass().tasks_done(), 10u);
  EXPECT_TRUE(control.Next(&watch.cursor, 0ms).empty()) << "nothing new";

  RunSummary summary;
  summary.set_status(kJobCompleted);
  control.Ended(summary, "", 0);
  events = control.Next(&watch.cursor, 0ms);
  ASSERT_EQ(events.size(), 1u);
  ASSERT_TRUE(events[0].has_run_ended());
  EXPECT_EQ(events[0].run_ended().state(), admin::RUN_STATE_COMPLETED);
  EXPECT_FALSE(control.RequestCancel("late")) << "an ended run cannot be cancelled";
}

TEST(RunControlTest, AWaitingWatcherWakesWhenTheRunPublishes) {
  RunControl control = NewControl();
  RunControl::Watch watch = control.StartWatch();
  std::thread run([&control] { control.PassStarted(Pass::PASS_C, 3, 0); });
  std::vector<admin::RunEvent> events = control.Next(&watch.cursor, 30s);
  run.join();
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].pass_started().pass(), "C");
}

TEST(RunControlTest, AWatcherThatFellBehindGetsAFreshSnapshot) {
  RunControl control = NewControl();
  RunControl::Watch watch = control.StartWatch();
  for (int i = 0; i < 5000; ++i) control.PassStarted(Pass::PASS_D, static_cast<uint32_t>(i), 0);
  std::vector<admin::RunEvent> events = control.Next(&watch.cursor, 0ms);
  ASSERT_EQ(events.size(), 1u);
  ASSERT_TRUE(events[0].has_snapshot());
  EXPECT_EQ(events[0].snapshot().passes(0).tasks_total(), 4999u);
  EXPECT_TRUE(control.Next(&watch.cursor, 0ms).empty());
}

TEST(RunControlTest, CancelKeepsTheFirstReasonAndExitsAsSigterm) {
  RunControl control = NewControl();
  EXPECT_FALSE(control.cancel_requested());
  EXPECT_TRUE(control.RequestCancel("wrong corpus"));
  EXPECT_TRUE(control.RequestCancel("again"));
  EXPECT_TRUE(control.cancel_requested());
  EXPECT_EQ(control.cancel_reason(), "CancelRun: wrong corpus");
  EXPECT_EQ(control.cancel_exit_code(), 143);
}

}  // namespace
}  // namespace ingest
