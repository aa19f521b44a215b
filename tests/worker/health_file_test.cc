#include "worker/health_file.h"

#include "tests/testing/testing.h"

namespace ingest {
namespace {

using namespace std::chrono_literals;
using ::testing::HasSubstr;
using testing::TempDir;

WorkerHealth Health(bool connected, bool draining, WallTime updated) {
  return {.worker_id = "w-1",
          .coordinator = "tcp://coordinator:5555",
          .connected = connected,
          .draining = draining,
          .tasks_running = 2,
          .updated = updated,
          .last_heard = updated - 1s};
}

TEST(WorkerHealthTest, RoundTripsThroughItsFileToTheMillisecond) {
  TempDir dir;
  const WallTime now = std::chrono::time_point_cast<std::chrono::milliseconds>(std::chrono::system_clock::now());
  ASSERT_OK(WriteWorkerHealth(dir.path() / "h", Health(true, false, now)));
  Result<WorkerHealth> read = ReadWorkerHealth(dir.path() / "h");
  ASSERT_OK(read);
  EXPECT_EQ(read->worker_id, "w-1");
  EXPECT_EQ(read->coordinator, "tcp://coordinator:5555");
  EXPECT_TRUE(read->connected);
  EXPECT_EQ(read->tasks_running, 2u);
  EXPECT_EQ(read->updated, now);
  EXPECT_EQ(read->last_heard, now - 1s);
}

TEST(WorkerHealthTest, AMissingOrForeignFileIsNamed) {
  TempDir dir;
  EXPECT_EQ(ReadWorkerHealth(dir.path() / "none").status().code(), StatusCode::kNotFound);
  dir.Write("other", "hello\n");
  Result<WorkerHealth> foreign = ReadWorkerHealth(dir.path() / "other");
  EXPECT_EQ(foreign.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(foreign.status().message(), HasSubstr((dir.path() / "other").string()));
}

TEST(WorkerHealthTest, LiveNeedsAFreshFileReadyAlsoAConnectionAndNoDrain) {
  const WallTime now = std::chrono::system_clock::now();
  EXPECT_OK(CheckWorkerHealth(Health(false, false, now - 2s), WorkerProbe::kLive, 30s, now));
  EXPECT_OK(CheckWorkerHealth(Health(true, false, now - 2s), WorkerProbe::kReady, 30s, now));

  Status stuck = CheckWorkerHealth(Health(true, false, now - 31s), WorkerProbe::kLive, 30s, now);
  EXPECT_EQ(stuck.code(), StatusCode::kUnavailable);
  EXPECT_THAT(stuck.message(), HasSubstr("31 s ago"));
  Status away = CheckWorkerHealth(Health(false, false, now), WorkerProbe::kReady, 30s, now);
  EXPECT_THAT(away.message(), HasSubstr("not connected to tcp://coordinator:5555 (last heard 1 s ago)"));
  EXPECT_THAT(CheckWorkerHealth(Health(true, true, now), WorkerProbe::kReady, 30s, now).message(),
              HasSubstr("draining"));
  WorkerHealth never = Health(false, false, now);
  never.last_heard = WallTime();
  EXPECT_THAT(CheckWorkerHealth(never, WorkerProbe::kReady, 30s, now).message(), HasSubstr("never heard from it"));
}

}  // namespace
}  // namespace ingest
