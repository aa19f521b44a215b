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
    // pass-through at the first write), the page cache is used. A direct
    // write waits for the disk (0.8 ms a megabyte here), so these are made
    // on a thread of the writer's own: Append waits only when four
    // megabytes are on their way.
    kBypass,
  };
  // What the writer computes of the bytes it writes, on a thread of its own
  // (SHA-256 takes 0.65 ms a megabyte here): its caller need not.
  enum class Hashing { kNone, kSha256 };

  // Opens the temp file next to `path`. Errors name the path.
  static Result<AtomicFileWriter> Open(const std::filesystem::path& path, Caching caching = Caching::kPageCache,
                                       Hashing hashing = Hashing::kNone);

  AtomicFileWriter(AtomicFileWriter&& other) noexcept;
  AtomicFileWriter& operator=(AtomicFileWriter&&) = delete;
  AtomicFileWriter(const AtomicFileWriter&) = delete;
  ~AtomicFileWriter();

  // Buffered append. An error of an earlier write made in the background may
  // come back from a later Append, or from Commit.
  Status Append(std::string_view bytes);
  // Flushes, fsyncs, renames over the target and fsyncs the directory.
  Status Commit();
  // With Hashing::kSha256, after a successful Commit: the lower-case hex
  // SHA-256 of every byte appended.
  const std::string& sha256() const { return sha256_; }

  const std::filesystem::path& path() const { return path_; }

 private:
  struct FreeAligned {
    void operator()(char* block) const { std::free(block); }
  };
  // The temp file as it is written.
  struct File;
  // The blocks on their way to the disk and the hasher, and the threads
  // that take them there: for kBypass or kSha256.
  struct Pipeline;

  AtomicFileWriter(std::filesystem::path path, std::unique_ptr<File> file, bool in_background, bool hash);
  // The block being filled.
  char* Block() const;
  // Hands the block over to be written: the last one (Commit) may be partial.
  Status Flush(bool last);

  std::filesystem::path path_;
  std::unique_ptr<File> file_;
  std::unique_ptr<Pipeline> pipeline_;         // null when written on the caller's thread; before file_ goes
  std::unique_ptr<char, FreeAligned> buffer_;  // without a pipeline: the block
  size_t buffered_ = 0;                        // bytes of the block filled
  std::string sha256_;
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
