#pragma once

#include <cstdint>
#include <filesystem>
#include <vector>

#include "common/status.h"
#include "proto/contracts.pb.h"

namespace ingest {

// The results of one pass's tasks, appended as they arrive and read back in
// merge order. One file per pass instead of one per task: creating thousands
// of small files cost more than the tasks themselves. The index (offset and
// size per task) lives in memory. Scratch data: not fsynced, removed after
// the artifact is committed. Not thread-safe.
class SpillFile {
 public:
  // Creates (truncates) `path` for `tasks` task slots.
  static Result<SpillFile> Create(const std::filesystem::path& path, size_t tasks);

  SpillFile(SpillFile&& other) noexcept;
  SpillFile& operator=(SpillFile&&) = delete;
  SpillFile(const SpillFile&) = delete;
  ~SpillFile();

  Status Append(size_t task, const RecordBatch& batch);
  bool Has(size_t task) const { return task < index_.size() && index_[task].present; }
  // NotFound when the task has no result; DataLoss when the bytes do not parse.
  Result<RecordBatch> Read(size_t task) const;
  // Closes and removes the file.
  void Remove();

 private:
  struct Entry {
    uint64_t offset = 0;
    uint64_t size = 0;
    bool present = false;
  };
  SpillFile(std::filesystem::path path, int fd, size_t tasks);

  std::filesystem::path path_;
  int fd_ = -1;
  uint64_t end_ = 0;
  std::vector<Entry> index_;
};

}  // namespace ingest
