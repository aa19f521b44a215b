#pragma once

#include <filesystem>
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
  // Opens the temp file next to `path`. Errors name the path.
  static Result<AtomicFileWriter> Open(const std::filesystem::path& path);

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
  AtomicFileWriter(std::filesystem::path path, std::filesystem::path temp, int fd);
  Status Flush();
  // Writes `bytes` at the end of the file.
  Status WriteOut(std::string_view bytes);

  std::filesystem::path path_;
  std::filesystem::path temp_;
  int fd_ = -1;
  std::string buffer_;
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
