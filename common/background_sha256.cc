#include "common/background_sha256.h"

#include <utility>

namespace ingest {

BackgroundSha256::BackgroundSha256() : thread_([this] { Run(); }) { block_.reserve(kBlockBytes); }

BackgroundSha256::~BackgroundSha256() {
  {
    std::lock_guard lock(mu_);
    finishing_ = true;
    waiting_.clear();
  }
  changed_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void BackgroundSha256::Update(std::string_view bytes) {
  while (!bytes.empty()) {
    const size_t room = kBlockBytes - block_.size();
    block_.append(bytes.substr(0, room));
    bytes.remove_prefix(std::min(room, bytes.size()));
    if (block_.size() == kBlockBytes) HandOver();
  }
}

void BackgroundSha256::HandOver() {
  std::unique_lock lock(mu_);
  changed_.wait(lock, [this] { return waiting_.size() < kMaxWaiting; });
  waiting_.push_back(std::move(block_));
  if (spare_.empty()) {
    block_ = std::string();
    block_.reserve(kBlockBytes);
  } else {
    block_ = std::move(spare_.back());
    spare_.pop_back();
  }
  lock.unlock();
  changed_.notify_all();
}

std::string BackgroundSha256::HexDigest() {
  if (!block_.empty()) HandOver();
  {
    std::lock_guard lock(mu_);
    finishing_ = true;
  }
  changed_.notify_all();
  thread_.join();
  return hash_.HexDigest();
}

void BackgroundSha256::Run() {
  std::unique_lock lock(mu_);
  for (;;) {
    changed_.wait(lock, [this] { return !waiting_.empty() || finishing_; });
    if (waiting_.empty()) return;  // finishing, and everything handed over is hashed
    std::string block = std::move(waiting_.front());
    waiting_.pop_front();
    lock.unlock();
    hash_.Update(block);
    block.clear();
    lock.lock();
    spare_.push_back(std::move(block));
    changed_.notify_all();
  }
}

}  // namespace ingest
