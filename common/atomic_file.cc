#include "common/atomic_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <mutex>
#include <optional>
#include <sstream>
#include <thread>
#include <utility>

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

struct AtomicFileWriter::File {
  File(std::filesystem::path temp_path, std::string target_name, int descriptor, bool bypass)
      : temp(std::move(temp_path)), name(std::move(target_name)), fd(descriptor), direct(bypass) {}
  File(const File&) = delete;
  File& operator=(const File&) = delete;
  ~File() {
    if (fd >= 0) {
      ::close(fd);
      ::unlink(temp.c_str());
    }
  }

  // Writes `bytes` at the end of the file.
  Status WriteOut(std::string_view bytes);
  // Writes a block of the file: only its last may be partial, and the
  // unaligned end of that one goes through the page cache.
  Status WriteBlock(std::string_view block);
  // Leaves O_DIRECT for the page cache, writing on from `end`: for the
  // unaligned tail of the file, or for good where a direct write was refused.
  Status StopBypassing(uint64_t end);

  const std::filesystem::path temp;
  const std::string name;  // the target's file name, for crash points
  int fd = -1;
  bool direct = false;   // the file is open with O_DIRECT
  uint64_t written = 0;  // bytes handed to the file
  uint64_t kicked = 0;   // of them, the ones the disk was asked to take already
};

Status AtomicFileWriter::File::WriteBlock(std::string_view block) {
  if (direct && block.size() % kDirectAlignment != 0) {
    const size_t aligned = block.size() - block.size() % kDirectAlignment;
    INGEST_RETURN_IF_ERROR(WriteOut(block.substr(0, aligned)));
    INGEST_RETURN_IF_ERROR(StopBypassing(written));
    INGEST_RETURN_IF_ERROR(WriteOut(block.substr(aligned)));
  } else {
    INGEST_RETURN_IF_ERROR(WriteOut(block));
  }
  CrashPoint("write", name);
  return Status::Ok();
}

Status AtomicFileWriter::File::StopBypassing(uint64_t end) {
  // A second descriptor without O_DIRECT rather than fcntl: a FUSE file
  // system opens its backing file with the flags of the open it serves, and
  // no fcntl of ours reaches that.
  const int reopened = ::open(temp.c_str(), O_WRONLY | O_CLOEXEC);
  if (reopened < 0) return ErrnoStatus(errno, temp.string());
  if (::lseek(reopened, static_cast<off_t>(end), SEEK_SET) < 0) {
    Status error = ErrnoStatus(errno, temp.string());
    ::close(reopened);
    return error;
  }
  ::close(fd);
  fd = reopened;
  direct = false;
  return Status::Ok();
}

Status AtomicFileWriter::File::WriteOut(std::string_view bytes) {
  size_t done = 0;
  while (done < bytes.size()) {
    ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      // A file system that opened the file O_DIRECT and refuses the write
      // (FUSE, a block size above kDirectAlignment, a short write before):
      // the rest goes through the page cache.
      if (errno == EINVAL && direct) {
        INGEST_RETURN_IF_ERROR(StopBypassing(written + done));
        continue;
      }
      return ErrnoStatus(errno, temp.string());
    }
    done += static_cast<size_t>(n);
  }
  written += bytes.size();
  // A large file written through the page cache starts on its way to the
  // disk now, a few megabytes at a time, so that Commit's fsync does not
  // wait for all of it at once. A hint: its errors come back from fsync.
  if (!direct && written - kicked >= kKickBytes) {
    (void)::sync_file_range(fd, static_cast<off_t>(kicked), static_cast<off_t>(written - kicked),
                            SYNC_FILE_RANGE_WRITE);
    kicked = written;
  }
  return Status::Ok();
}

// Blocks go round a ring: the caller fills one while the writer thread
// writes the ones before it and the hasher hashes them, each in order; a
// block is filled again once both are done with it. Nothing is copied on
// the way, and the caller waits only when the ring is full.
struct AtomicFileWriter::Pipeline {
  static constexpr size_t kBlocks = 4;

  Pipeline(File* target, bool hashing) : file(target) {
    for (auto& block : blocks) block.reset(NewBlock());
    if (hashing) hash.emplace();
    writer = std::thread([this] { Write(); });
    if (hashing) hasher = std::thread([this] { Hash(); });
  }
  Pipeline(const Pipeline&) = delete;
  Pipeline& operator=(const Pipeline&) = delete;
  // Stops both threads, whatever is still waiting: an uncommitted file.
  ~Pipeline() {
    {
      std::lock_guard lock(mu);
      abandoned = true;
    }
    changed.notify_all();
    if (writer.joinable()) writer.join();
    if (hasher.joinable()) hasher.join();
  }

  // The caller's only, between hand-overs: `filled` changes only in HandOver.
  char* Filling() const { return blocks[filled % kBlocks].get(); }

  // Hands over the block being filled, its first `size` bytes, and waits
  // until the next one is free; the error of an earlier write, if any.
  Status HandOver(size_t size, bool is_last) {
    std::unique_lock lock(mu);
    sizes[filled % kBlocks] = size;
    ++filled;
    last = is_last;
    changed.notify_all();
    changed.wait(lock, [this] { return filled - Slowest() < kBlocks; });
    return error;
  }

  // After the last hand-over: waits for every block to be written and
  // hashed; the digest (with a hasher) and the first write's error.
  Status Finish(std::string* sha256) {
    writer.join();
    if (hasher.joinable()) hasher.join();
    if (hash) *sha256 = hash->HexDigest();
    std::lock_guard lock(mu);
    return error;
  }

  // Of the two threads, the count of blocks the one behind is done with.
  uint64_t Slowest() const { return hash ? std::min(written, hashed) : written; }

  // Takes the blocks in order to `done`, one after another, through `take`.
  template <typename Take>
  void Drain(uint64_t& done, Take take) {
    std::unique_lock lock(mu);
    for (;;) {
      changed.wait(lock, [&] { return done < filled || last || abandoned; });
      if (abandoned || done == filled) return;
      const size_t i = done % kBlocks;
      const std::string_view block(blocks[i].get(), sizes[i]);
      lock.unlock();
      take(block);
      lock.lock();
      ++done;
      changed.notify_all();
    }
  }
  void Write() {
    Drain(written, [this](std::string_view block) {
      bool failed = false;
      {
        std::lock_guard lock(mu);
        failed = !error.ok();
      }
      if (failed) return;  // the file is lost: nothing more to write
      Status status = file->WriteBlock(block);
      if (status.ok()) return;
      std::lock_guard lock(mu);
      error = std::move(status);
    });
  }
  void Hash() {
    Drain(hashed, [this](std::string_view block) { hash->Update(block); });
  }

  File* const file;  // the writer thread's until Finish
  std::array<std::unique_ptr<char, FreeAligned>, kBlocks> blocks;
  std::array<size_t, kBlocks> sizes{};  // guarded by mu
  std::mutex mu;
  std::condition_variable changed;
  uint64_t filled = 0;         // guarded by mu (written by the caller only): blocks handed over
  uint64_t written = 0;        // guarded by mu
  uint64_t hashed = 0;         // guarded by mu
  bool last = false;           // guarded by mu: the last block was handed over
  bool abandoned = false;      // guarded by mu
  Status error;                // guarded by mu: the first write's
  std::optional<Sha256> hash;  // the hasher's until Finish
  std::thread writer;
  std::thread hasher;
};

AtomicFileWriter::AtomicFileWriter(std::filesystem::path path, std::unique_ptr<File> file, bool in_background,
                                   bool hash)
    : path_(std::move(path)), file_(std::move(file)) {
  if (in_background) {
    pipeline_ = std::make_unique<Pipeline>(file_.get(), hash);
  } else {
    buffer_.reset(NewBlock());
  }
}

AtomicFileWriter::AtomicFileWriter(AtomicFileWriter&& other) noexcept = default;

AtomicFileWriter::~AtomicFileWriter() {
  pipeline_.reset();  // its threads stop before the file is closed and removed
}

Result<AtomicFileWriter> AtomicFileWriter::Open(const std::filesystem::path& path, Caching caching, Hashing hashing) {
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
  auto file = std::make_unique<File>(std::move(temp), path.filename().string(), fd, direct);
  const bool hash = hashing == Hashing::kSha256;
  return AtomicFileWriter(path, std::move(file), caching == Caching::kBypass || hash, hash);
}

char* AtomicFileWriter::Block() const { return pipeline_ ? pipeline_->Filling() : buffer_.get(); }

Status AtomicFileWriter::Append(std::string_view bytes) {
  if (!pipeline_ && bytes.size() >= kFlushBytes / 4) {
    // A large piece (a block of the manifest) is written as it is, after
    // what is buffered: not copied into the buffer first.
    INGEST_RETURN_IF_ERROR(Flush(/*last=*/false));
    INGEST_RETURN_IF_ERROR(file_->WriteOut(bytes));
    CrashPoint("write", file_->name);
    return Status::Ok();
  }
  // Direct writes go out a whole, aligned block at a time.
  while (!bytes.empty()) {
    const size_t taken = std::min(bytes.size(), kFlushBytes - buffered_);
    std::memcpy(Block() + buffered_, bytes.data(), taken);
    buffered_ += taken;
    bytes.remove_prefix(taken);
    if (buffered_ == kFlushBytes) INGEST_RETURN_IF_ERROR(Flush(/*last=*/false));
  }
  return Status::Ok();
}

Status AtomicFileWriter::Flush(bool last) {
  const size_t size = buffered_;
  buffered_ = 0;
  if (pipeline_) return pipeline_->HandOver(size, last);
  return file_->WriteBlock({buffer_.get(), size});
}

Status AtomicFileWriter::Commit() {
  INGEST_CHECK(file_ && file_->fd >= 0);
  Status flushed = Flush(/*last=*/true);
  if (pipeline_) {
    Status finished = pipeline_->Finish(&sha256_);
    pipeline_.reset();
    INGEST_RETURN_IF_ERROR(finished);
  }
  INGEST_RETURN_IF_ERROR(flushed);
  File& file = *file_;
  if (::fsync(file.fd) != 0) return ErrnoStatus(errno, file.temp.string());
  const int fd = std::exchange(file.fd, -1);
  if (::close(fd) != 0) {
    const int error = errno;  // before unlink can change it
    ::unlink(file.temp.c_str());
    return ErrnoStatus(error, file.temp.string());
  }
  CrashPoint("before_rename", file.name);
  if (::rename(file.temp.c_str(), path_.c_str()) != 0) {
    Status status = ErrnoStatus(errno, path_.string());
    ::unlink(file.temp.c_str());
    return status;
  }
  CrashPoint("after_rename", file.name);
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
  INGEST_ASSIGN_OR_RETURN(AtomicFileWriter writer, AtomicFileWriter::Open(to, AtomicFileWriter::Caching::kPageCache,
                                                                          AtomicFileWriter::Hashing::kSha256));
  int fd = ::open(from.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return ErrnoStatus(errno, from.string());
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
    Status appended = writer.Append(std::string_view(block.data(), static_cast<size_t>(n)));
    if (!appended.ok()) {
      ::close(fd);
      return appended;
    }
  }
  ::close(fd);
  INGEST_RETURN_IF_ERROR(writer.Commit());
  return writer.sha256();
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
