#include "coordinator/state/run_lock.h"

#include <spdlog/spdlog.h>

namespace ingest {
namespace {

constexpr std::chrono::seconds kHeartbeatEvery{15};

}  // namespace

Result<std::unique_ptr<RunLock>> RunLock::Acquire(StateStore& store, const std::string& env, RunId holder,
                                                  const std::string& scheduled_for) {
  std::string broken;
  INGEST_RETURN_IF_ERROR(store.AcquireLock(env, holder, kRunLockStaleAfter, &broken, scheduled_for));
  if (!broken.empty()) spdlog::warn("broke the run lock of env '{}' held by {}", env, broken);
  return std::unique_ptr<RunLock>(new RunLock(store, env, std::move(holder)));
}

RunLock::RunLock(StateStore& store, std::string env, RunId holder)
    : store_(store), env_(std::move(env)), holder_(std::move(holder)) {
  // SQLite connections are not shared between threads: the heartbeat opens
  // its own.
  heartbeat_ = std::thread([this, db = store_.path()] {
    Result<StateStore> own = StateStore::Open(db);
    std::unique_lock<std::mutex> lock(mu_);
    while (!stopped_.wait_for(lock, kHeartbeatEvery, [this] { return stop_; })) {
      lock.unlock();
      Status beat = own.ok() ? own->HeartbeatLock(env_, holder_) : own.status();
      if (!beat.ok()) spdlog::warn("run lock heartbeat: {}", beat.message());
      lock.lock();
    }
  });
}

RunLock::~RunLock() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  stopped_.notify_all();
  heartbeat_.join();
  if (Status released = store_.ReleaseLock(env_, holder_); !released.ok()) spdlog::warn("{}", released.message());
}

}  // namespace ingest
