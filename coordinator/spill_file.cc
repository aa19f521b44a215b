#include "coordinator/spill_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>

namespace ingest {

SpillFile::SpillFile(std::filesystem::path path, int fd, size_t tasks)
    : path_(std::move(path)), fd_(fd), index_(tasks) {}

SpillFile::SpillFile(SpillFile&& other) noexcept
    : path_(std::move(other.path_)), fd_(other.fd_), end_(other.end_), index_(std::move(other.index_)) {
  other.fd_ = -1;
}

SpillFile::~SpillFile() {
  if (fd_ >= 0) ::close(fd_);
}

Result<SpillFile> SpillFile::Create(const std::filesystem::path& path, size_t tasks) {
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return ErrnoStatus(errno, path.string());
  return SpillFile(path, fd, tasks);
}

Status SpillFile::Append(size_t task, const RecordBatch& batch) {
  INGEST_CHECK(task < index_.size());
  std::string bytes = batch.SerializeAsString();
  size_t done = 0;
  while (done < bytes.size()) {
    ssize_t n = ::pwrite(fd_, bytes.data() + done, bytes.size() - done, static_cast<off_t>(end_ + done));
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoStatus(errno, path_.string());
    }
    done += static_cast<size_t>(n);
  }
  // A retried task that already has a result keeps the newest one.
  index_[task] = Entry{end_, bytes.size(), true};
  end_ += bytes.size();
  return Status::Ok();
}

Result<RecordBatch> SpillFile::Read(size_t task) const {
  if (!Has(task)) return NotFound(path_.string() + ": no result for task " + std::to_string(task));
  const Entry& e = index_[task];
  std::string bytes(e.size, '\0');
  size_t done = 0;
  while (done < bytes.size()) {
    ssize_t n = ::pread(fd_, bytes.data() + done, bytes.size() - done, static_cast<off_t>(e.offset + done));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return DataLoss(path_.string() + ": short read at offset " + std::to_string(e.offset + done));
    done += static_cast<size_t>(n);
  }
  RecordBatch batch;
  if (!batch.ParseFromString(bytes)) return DataLoss(path_.string() + ": unreadable result of task " + std::to_string(task));
  return batch;
}

void SpillFile::Remove() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
  ::unlink(path_.c_str());
}

}  // namespace ingest
