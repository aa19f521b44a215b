#include "common/atomic_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>

#include "common/check.h"
#include "common/crash_point.h"
#include "common/sha256.h"

namespace ingest {
namespace {
constexpr size_t kFlushBytes = 1 << 20;
constexpr uint64_t kKickBytes = 8 << 20;
// What O_DIRECT asks of a buffer's address, a write's offset and its length
// on the file systems we meet (their logical block size is 512 or 4096).
constexpr size_t kDirectAlignment = 4096;

char* NewBlock() {
  void* block = nullptr;
  INGEST_CHECK(::posix_memalign(&block, kDirectAlignment, kFlushBytes) == 0);
  return static_cast<char*>(block);
}
}  // namespace

AtomicFileWriter::AtomicFileWriter(std::filesystem::path path, std::filesystem::path temp, int fd, bool direct)
    : path_(std::move(path)), temp_(std::move(temp)), fd_(fd), direct_(direct), buffer_(NewBlock()) {}

AtomicFileWriter::AtomicFileWriter(AtomicFileWriter&& other) noexcept
    : path_(std::move(other.path_)),
      temp_(std::move(other.temp_)),
      fd_(other.fd_),
      direct_(other.direct_),
      buffer_(std::move(other.buffer_)),
      buffered_(other.buffered_),
      written_(other.written_),
      kicked_(other.kicked_) {
  other.fd_ = -1;
}

AtomicFileWriter::~AtomicFileWriter() {
  if (fd_ >= 0) {
    ::close(fd_);
    ::unlink(temp_.c_str());
  }
}

Result<AtomicFileWriter> AtomicFileWriter::Open(const std::filesystem::path& path, Caching caching) {
  // The pid keeps concurrent writers (a stray second coordinator) off each other's temp files.
  std::filesystem::path temp = path;
  temp += ".tmp." + std::to_string(::getpid());
  constexpr int kFlags = O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC;
  bool direct = caching == Caching::kBypass;
  int fd = direct ? ::open(temp.c_str(), kFlags | O_DIRECT, 0644) : -1;
  if (fd < 0) {
    direct = false;
    fd = ::open(temp.c_str(), kFlags, 0644);
  }
  if (fd < 0) return ErrnoStatus(errno, temp.string());
  return AtomicFileWriter(path, std::move(temp), fd, direct);
}

Status AtomicFileWriter::Append(std::string_view bytes) {
  if (!direct_ && bytes.size() >= kFlushBytes / 4) {
    // A large piece (a block of the manifest) is written as it is, after
    // what is buffered: not copied into the buffer first.
    INGEST_RETURN_IF_ERROR(Flush());
    INGEST_RETURN_IF_ERROR(WriteOut(bytes));
    CrashPoint("write", path_.filename().native());
    return Status::Ok();
  }
  // Direct writes go out a whole, aligned block at a time.
  while (!bytes.empty()) {
    const size_t taken = std::min(bytes.size(), kFlushBytes - buffered_);
    std::memcpy(buffer_.get() + buffered_, bytes.data(), taken);
    buffered_ += taken;
    bytes.remove_prefix(taken);
    if (buffered_ == kFlushBytes) INGEST_RETURN_IF_ERROR(Flush());
  }
  return Status::Ok();
}

Status AtomicFileWriter::Flush() {
  if (direct_ && buffered_ % kDirectAlignment != 0) {
    // The file's unaligned end (only Commit flushes a partial block):
    // its aligned part directly, the rest through the page cache.
    const size_t aligned = buffered_ - buffered_ % kDirectAlignment;
    INGEST_RETURN_IF_ERROR(WriteOut({buffer_.get(), aligned}));
    INGEST_RETURN_IF_ERROR(StopBypassing(written_));
    INGEST_RETURN_IF_ERROR(WriteOut({buffer_.get() + aligned, buffered_ - aligned}));
  } else {
    INGEST_RETURN_IF_ERROR(WriteOut({buffer_.get(), buffered_}));
  }
  buffered_ = 0;
  CrashPoint("write", path_.filename().native());
  return Status::Ok();
}

Status AtomicFileWriter::StopBypassing(uint64_t end) {
  // A second descriptor without O_DIRECT rather than fcntl: a FUSE file
  // system opens its backing file with the flags of the open it serves, and
  // no fcntl of ours reaches that.
  const int fd = ::open(temp_.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) return ErrnoStatus(errno, temp_.string());
  if (::lseek(fd, static_cast<off_t>(end), SEEK_SET) < 0) {
    Status error = ErrnoStatus(errno, temp_.string());
    ::close(fd);
    return error;
  }
  ::close(fd_);
  fd_ = fd;
  direct_ = false;
  return Status::Ok();
}

Status AtomicFileWriter::WriteOut(std::string_view bytes) {
  size_t written = 0;
  while (written < bytes.size()) {
    ssize_t n = ::write(fd_, bytes.data() + written, bytes.size() - written);
    if (n < 0) {
      if (errno == EINTR) continue;
      // A file system that opened the file O_DIRECT and refuses the write
      // (FUSE, a block size above kDirectAlignment, a short write before):
      // the rest goes through the page cache.
      if (errno == EINVAL && direct_) {
        INGEST_RETURN_IF_ERROR(StopBypassing(written_ + written));
        continue;
      }
      return ErrnoStatus(errno, temp_.string());
    }
    written += static_cast<size_t>(n);
  }
  written_ += bytes.size();
  // A large file written through the page cache starts on its way to the
  // disk now, a few megabytes at a time, so that Commit's fsync does not
  // wait for all of it at once. A hint: its errors come back from fsync.
  if (!direct_ && written_ - kicked_ >= kKickBytes) {
    (void)::sync_file_range(fd_, static_cast<off_t>(kicked_), static_cast<off_t>(written_ - kicked_),
                            SYNC_FILE_RANGE_WRITE);
    kicked_ = written_;
  }
  return Status::Ok();
}

Status AtomicFileWriter::Commit() {
  INGEST_CHECK(fd_ >= 0);
  INGEST_RETURN_IF_ERROR(Flush());
  if (::fsync(fd_) != 0) return ErrnoStatus(errno, temp_.string());
  if (::close(fd_) != 0) {
    fd_ = -1;
    ::unlink(temp_.c_str());
    return ErrnoStatus(errno, temp_.string());
  }
  fd_ = -1;
  CrashPoint("before_rename", path_.filename().native());
  if (::rename(temp_.c_str(), path_.c_str()) != 0) {
    Status status = ErrnoStatus(errno, path_.string());
    ::unlink(temp_.c_str());
    return status;
  }
  CrashPoint("after_rename", path_.filename().native());
  return SyncDirectory(path_.has_parent_path() ? path_.parent_path() : ".");
}

Status WriteFileAtomic(const std::filesystem::path& path, std::string_view content) {
  INGEST_ASSIGN_OR_RETURN(AtomicFileWriter writer, AtomicFileWriter::Open(path));
  INGEST_RETURN_IF_ERROR(writer.Append(content));
  return writer.Commit();
}

Result<std::string> ReadFile(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return ErrnoStatus(errno, path.string());
  std::ostringstream out;
  out << in.rdbuf();
  if (in.bad()) return ErrnoStatus(errno, path.string());
  return out.str();
}

Status SyncDirectory(const std::filesystem::path& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return ErrnoStatus(errno, dir.string());
  int rc = ::fsync(fd);
  int err = errno;
  ::close(fd);
  if (rc != 0) return ErrnoStatus(err, dir.string());
  return Status::Ok();
}

Result<std::string> CopyFileAtomic(const std::filesystem::path& from, const std::filesystem::path& to) {
  int fd = ::open(from.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return ErrnoStatus(errno, from.string());
  INGEST_ASSIGN_OR_RETURN(AtomicFileWriter writer, AtomicFileWriter::Open(to));
  Sha256 hash;
  std::string block(1 << 20, '\0');
  while (true) {
    ssize_t n = ::read(fd, block.data(), block.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      Status error = ErrnoStatus(errno, from.string());
      ::close(fd);
      return error;
    }
    if (n == 0) break;
    std::string_view bytes(block.data(), static_cast<size_t>(n));
    hash.Update(bytes);
    Status appended = writer.Append(bytes);
    if (!appended.ok()) {
      ::close(fd);
      return appended;
    }
  }
  ::close(fd);
  INGEST_RETURN_IF_ERROR(writer.Commit());
  return hash.HexDigest();
}

Status LinkOrCopyFile(const std::filesystem::path& from, const std::filesystem::path& to, bool sync_directory) {
  const std::filesystem::path temp = to.string() + ".link." + std::to_string(::getpid());
  ::unlink(temp.c_str());  // left by a killed run of the same pid
  if (::link(from.c_str(), temp.c_str()) != 0) {
    if (errno == EXDEV || errno == EPERM || errno == EMLINK || errno == EOPNOTSUPP) {
      return CopyFileAtomic(from, to).status();
    }
    return ErrnoStatus(errno, errno == ENOENT ? from.string() : to.string());
  }
  if (::rename(temp.c_str(), to.c_str()) != 0) {
    Status error = ErrnoStatus(errno, to.string());
    ::unlink(temp.c_str());
    return error;
  }
  return sync_directory ? SyncDirectory(to.parent_path()) : Status::Ok();
}

Result<std::string> LinkOrCopyFileAtomic(const std::filesystem::path& from, const std::filesystem::path& to) {
  INGEST_ASSIGN_OR_RETURN(std::string sha, Sha256File(from));
  INGEST_RETURN_IF_ERROR(LinkOrCopyFile(from, to));
  return sha;
}

Status UnshareFile(const std::filesystem::path& path, bool keep_content) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return errno == ENOENT ? Status::Ok() : ErrnoStatus(errno, path.string());
  if (st.st_nlink <= 1) return Status::Ok();
  if (keep_content) return CopyFileAtomic(path, path).status();
  if (::unlink(path.c_str()) != 0) return ErrnoStatus(errno, path.string());
  return SyncDirectory(path.parent_path());
}

}  // namespace ingest
