#include "common/positional_io.h"

#include <unistd.h>

#include <cerrno>

namespace ingest {

Status WriteAt(int fd, std::string_view bytes, uint64_t offset, const std::filesystem::path& path) {
  size_t done = 0;
  while (done < bytes.size()) {
    ssize_t n = ::pwrite(fd, bytes.data() + done, bytes.size() - done, static_cast<off_t>(offset + done));
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoStatus(errno, path.string());
    }
    done += static_cast<size_t>(n);
  }
  return Status::Ok();
}

Result<uint64_t> ReadUpTo(int fd, char* data, uint64_t size, uint64_t offset, const std::filesystem::path& path) {
  uint64_t done = 0;
  while (done < size) {
    ssize_t n = ::pread(fd, data + done, size - done, static_cast<off_t>(offset + done));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return ErrnoStatus(errno, path.string());
    if (n == 0) break;
    done += static_cast<uint64_t>(n);
  }
  return done;
}

Result<uint64_t> ReadUpTo(int fd, std::string* bytes, uint64_t offset, const std::filesystem::path& path) {
  return ReadUpTo(fd, bytes->data(), bytes->size(), offset, path);
}

Result<bool> ReadAt(int fd, std::string* bytes, uint64_t offset, const std::filesystem::path& path) {
  INGEST_ASSIGN_OR_RETURN(uint64_t done, ReadUpTo(fd, bytes, offset, path));
  return done == bytes->size();
}

}  // namespace ingest
