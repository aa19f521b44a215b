#include "coordinator/state/run_lock.h"

#include <spdlog/spdlog.h>

namespace ingest {
namespace {

constexpr std::chrono::seconds kHeartbeatEvery{15};
// How often the heartbeat thread looks at its stop flag.
constexpr std::chrono::milliseconds kStopCheck{100};

}  // namespace

Result<std::unique_ptr<RunLock>> RunLock::Acquire(StateStore& store, const std::string& env, RunId holder) {
  std::string broken;
  INGEST_RETURN_IF_ERROR(store.AcquireLock(env, holder, kRunLockStaleAfter, &broken));
  if (!broken.empty()) spdlog::warn("broke the run lock of env '{}' held by {}", env, broken);
  return std::unique_ptr<RunLock>(new RunLock(store, env, std::move(holder)));
}

RunLock::RunLock(StateStore& store, std::string env, RunId holder)
    : store_(store), env_(std::move(env)), holder_(std::move(holder)) {
  // SQLite connections are not shared between threads: the heartbeat opens
  // its own.
  heartbeat_ = std::thread([this, db = store_.path()] {
    Result<StateStore> own = StateStore::Open(db);
    auto next = std::chrono::steady_clock::now() + kHeartbeatEvery;
    while (!stop_) {
      std::this_thread::sleep_for(kStopCheck);
      if (std::chrono::steady_clock::now() < next) continue;
      next += kHeartbeatEvery;
      Status beat = own.ok() ? own->HeartbeatLock(env_, holder_) : own.status();
      if (!beat.ok()) spdlog::warn("run lock heartbeat: {}", beat.message());
    }
  });
}

RunLock::~RunLock() {
  stop_ = true;
  heartbeat_.join();
  if (Status released = store_.ReleaseLock(env_, holder_); !released.ok()) spdlog::warn("{}", released.message());
}

}  // namespace ingest
