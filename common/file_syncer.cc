#include "common/file_syncer.h"

#include <unistd.h>

#include <cerrno>
#include <utility>

namespace ingest {

FileSyncer::FileSyncer(int fd, std::filesystem::path path)
    : fd_(fd), path_(std::move(path)), thread_([this] { Run(); }) {}

FileSyncer::~FileSyncer() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  changed_.notify_all();
  thread_.join();
}

void FileSyncer::Request() {
  {
    std::lock_guard lock(mu_);
    ++requested_;
  }
  changed_.notify_all();
}

Status FileSyncer::error() {
  std::lock_guard lock(mu_);
  return error_;
}

Status FileSyncer::Wait() {
  std::unique_lock lock(mu_);
  changed_.wait(lock, [this] { return done_ == requested_; });
  return error_;
}

void FileSyncer::Run() {
  std::unique_lock lock(mu_);
  while (true) {
    changed_.wait(lock, [this] { return stopping_ || done_ < requested_; });
    if (stopping_) return;
    // One sync covers every request made before it starts.
    const uint64_t serving = requested_;
    lock.unlock();
    const int rc = ::fdatasync(fd_);
    const int error = errno;
    lock.lock();
    if (rc != 0 && error_.ok()) error_ = ErrnoStatus(error, path_.string());
    done_ = serving;
    changed_.notify_all();
  }
}

}  // namespace ingest
