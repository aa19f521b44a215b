#include "coordinator/state/run_lock.h"

#include "tests/testing/testing.h"

namespace ingest {
namespace {

using ::testing::HasSubstr;
using testing::TempDir;

TEST(RunLockTest, IsHeldUntilTheObjectGoesWhateverPathTheRunTakes) {
  TempDir dir;
  Result<StateStore> store = StateStore::Open(dir.path() / "state.db");
  ASSERT_OK(store);
  Result<StateStore> other = StateStore::Open(dir.path() / "state.db");
  ASSERT_OK(other);
  {
    Result<std::unique_ptr<RunLock>> held = RunLock::Acquire(*store, "dev", RunId{"run_first"});
    ASSERT_OK(held);
    Result<std::unique_ptr<RunLock>> refused = RunLock::Acquire(*other, "dev", RunId{"run_second"});
    ASSERT_FALSE(refused.ok());
    EXPECT_EQ(refused.status().code(), StatusCode::kAborted);
    EXPECT_THAT(refused.status().message(), HasSubstr("locked by run run_first"));
    EXPECT_OK(RunLock::Acquire(*other, "prod", RunId{"run_prod"})) << "another env has its own lock";
  }
  EXPECT_OK(RunLock::Acquire(*other, "dev", RunId{"run_second"})) << "released when the first lock went";
}

}  // namespace
}  // namespace ingest
