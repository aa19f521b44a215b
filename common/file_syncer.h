#pragma once

#include <condition_variable>
#include <cstdint>
#include <filesystem>
#include <mutex>
#include <thread>

#include "common/status.h"

namespace ingest {

// Makes a file's written bytes durable (fdatasync) on a thread of its own,
// so that the writer goes on writing instead of waiting for the disk: the
// coordinator's journal is synced in batches while results keep arriving,
// and workers are not kept waiting for their next tasks meanwhile. Requests
// made while a sync is under way are served by one more sync after it.
// The descriptor stays the caller's; it must outlive the syncer.
class FileSyncer {
 public:
  FileSyncer(int fd, std::filesystem::path path);
  // Finishes the sync under way, not the ones asked for after it.
  ~FileSyncer();
  FileSyncer(const FileSyncer&) = delete;
  FileSyncer& operator=(const FileSyncer&) = delete;

  // Asks for a sync of every byte written so far; returns at once.
  void Request();
  // The error of the first sync that failed, if one did; does not wait.
  // It stays: after a failed fsync the kernel may have dropped pages it
  // could not write, so nothing written to the file is known to be durable.
  Status error();
  // Waits for every requested sync; error() then.
  Status Wait();

 private:
  void Run();

  const int fd_;
  const std::filesystem::path path_;
  std::mutex mu_;
  std::condition_variable changed_;
  uint64_t requested_ = 0;  // guarded by mu_
  uint64_t done_ = 0;       // guarded by mu_
  bool stopping_ = false;   // guarded by mu_
  Status error_;            // guarded by mu_
  std::thread thread_;      // last: starts once the rest is set
};

}  // namespace ingest
