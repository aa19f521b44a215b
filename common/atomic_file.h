#pragma once

#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>

#include "common/status.h"

namespace ingest {

// Writes a file so that readers see either the old content or the complete new
// content, never a torn file, even across a crash: data goes to a temp file in
// the same directory, which is fsynced, renamed over the target, and then the
// directory is fsynced so the rename itself is durable.
//
// Not thread-safe. Destroying an uncommitted writer removes the temp file.
class AtomicFileWriter {
 public:
  // Where the bytes go on their way to the disk.
  enum class Caching {
    kPageCache,
    // Around the page cache (O_DIRECT), a megabyte at a time, for a large
    // file this process does not read back (an artifact). On a virtual
    // machine whose host takes freed memory back, every fresh page of the
    // page cache costs a fault on the host (`dd` of 400 MB: 1.38 s of
    // system time through the page cache, 0.07 s around it). Where the file
    // system refuses it (tmpfs before Linux 6.6 at the open, a FUSE
    // pass-through at the first write), the page cache is used.
    kBypass,
  };

  // Opens the temp file next to `path`. Errors name the path.
  static Result<AtomicFileWriter> Open(const std::filesystem::path& path, Caching caching = Caching::kPageCache);

  AtomicFileWriter(AtomicFileWriter&& other) noexcept;
  AtomicFileWriter& operator=(AtomicFileWriter&&) = delete;
  AtomicFileWriter(const AtomicFileWriter&) = delete;
  ~AtomicFileWriter();

  // Buffered append.
  Status Append(std::string_view bytes);
  // Flushes, fsyncs, renames over the target and fsyncs the directory.
  Status Commit();

  const std::filesystem::path& path() const { return path_; }

 private:
  struct FreeAligned {
    void operator()(char* block) const { std::free(block); }
  };

  AtomicFileWriter(std::filesystem::path path, std::filesystem::path temp, int fd, bool direct);
  Status Flush();
  // Writes `bytes` at the end of the file.
  Status WriteOut(std::string_view bytes);
  // Leaves O_DIRECT for the page cache, writing on from `end`: for the
  // unaligned tail of the file, or for good where a direct write was refused.
  Status StopBypassing(uint64_t end);

  std::filesystem::path path_;
  std::filesystem::path temp_;
  int fd_ = -1;
  bool direct_ = false;  // the file is open with O_DIRECT
  // kFlushBytes, aligned for O_DIRECT; filled up to buffered_.
  std::unique_ptr<char, FreeAligned> buffer_;
  size_t buffered_ = 0;
  uint64_t written_ = 0;  // bytes handed to the file
  uint64_t kicked_ = 0;   // of them, the ones the disk was asked to take already
};

// Whole-file convenience over AtomicFileWriter.
Status WriteFileAtomic(const std::filesystem::path& path, std::string_view content);

// Copies `from` to `to` through AtomicFileWriter; returns the sha256 of the
// bytes copied, so the caller can check them against a record.
Result<std::string> CopyFileAtomic(const std::filesystem::path& from, const std::filesystem::path& to);

// Gives `to` the content of `from` by a hard link where the file system
// allows it (nothing written), otherwise by CopyFileAtomic. For files that
// are replaced by rename, never changed in place (artifacts), or unshared
// before they are (UnshareFile). The link is made durable by an fsync of
// its directory unless `sync_directory` is false: then the caller's next
// fsync of that directory does it for a batch of links (carry-forward's
// links are made durable by the manifest's save).
Status LinkOrCopyFile(const std::filesystem::path& from, const std::filesystem::path& to, bool sync_directory = true);
// LinkOrCopyFile, returning the sha256 of the content, to be checked
// against a record.
Result<std::string> LinkOrCopyFileAtomic(const std::filesystem::path& from, const std::filesystem::path& to);

// Before `path` is changed in place: when it is one of several hard links,
// replaces it by a copy of its own (or, without `keep_content`, removes it),
// so the other names keep their bytes. Nothing happens to a missing file.
Status UnshareFile(const std::filesystem::path& path, bool keep_content);

// Reads a whole (small) file. NotFound / PermissionDenied name the path.
Result<std::string> ReadFile(const std::filesystem::path& path);

// fsyncs a directory so that renames and creations inside it are durable.
Status SyncDirectory(const std::filesystem::path& dir);

}  // namespace ingest
