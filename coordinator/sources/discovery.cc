#include "coordinator/sources/discovery.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <filesystem>
#include <string_view>

#include "common/glob.h"
#include "common/sha256.h"
#include "common/utf8.h"

namespace ingest {

std::string MakeSourceId(const std::string& source, const std::string& path) {
  return ContentId("doc_", source + '\0' + path);
}

namespace {

// One directory of the walk, read with the kernel's own file types and
// looked into relative to its descriptor: std::filesystem's iterator built
// a path of every entry and stat'ed each file by its full name, which was
// most of a rerun's walk (bench/sources_bench.cc).
class DirectoryReader {
 public:
  // Takes `dir_fd` (an open directory, or -1 when opening it failed). When
  // it cannot be read, ok() is false and errno says why.
  explicit DirectoryReader(int dir_fd) : dir_(dir_fd < 0 ? nullptr : ::fdopendir(dir_fd)) {
    if (dir_fd >= 0 && dir_ == nullptr) {
      const int error = errno;
      ::close(dir_fd);
      errno = error;
    }
  }
  DirectoryReader(const DirectoryReader&) = delete;
  DirectoryReader& operator=(const DirectoryReader&) = delete;
  ~DirectoryReader() {
    if (dir_ != nullptr) ::closedir(dir_);
  }
  bool ok() const { return dir_ != nullptr; }
  int fd() const { return ::dirfd(dir_); }
  // The next entry but "." and ".."; nullptr at the end or on an error
  // (errno then says which).
  const dirent* Next() {
    errno = 0;
    const dirent* entry = nullptr;
    while ((entry = ::readdir(dir_)) != nullptr) {
      const std::string_view name = entry->d_name;
      if (name != "." && name != "..") break;
    }
    return entry;
  }

 private:
  DIR* dir_;
};

// What errno says went wrong reading a directory of the walk, named.
Status WalkingError(const SourceConfig& source, const std::string& prefix) {
  return ErrnoStatus(errno, "source " + source.name + ": walking " + (source.root / prefix).string());
}

// Lists the documents of `dir`, whose path relative to the source root is
// `prefix` ("" or ending in '/'), into `docs`, and its subdirectories'
// paths into `subdirectories`.
Status ReadDirectory(const SourceConfig& source, DirectoryReader& dir, const std::string& prefix,
                     std::vector<DiscoveredDocument>* docs, std::vector<std::string>* subdirectories) {
  while (const dirent* entry = dir.Next()) {
    const char* name = entry->d_name;
    struct stat st {};
    bool stated = false;
    unsigned char type = entry->d_type;
    if (type == DT_UNKNOWN) {  // file systems that do not say
      if (::fstatat(dir.fd(), name, &st, AT_SYMLINK_NOFOLLOW) != 0) continue;
      type = IFTODT(st.st_mode);
      stated = true;
    }
    if (type == DT_DIR) {
      subdirectories->push_back(prefix + name + '/');
      continue;
    }
    // A symlink is listed when it leads to something other than a
    // directory; its target is checked whenever it is read. Symlinked
    // directories are neither listed nor walked into, and a dangling link
    // is not listed.
    const bool is_link = type == DT_LNK;
    if (is_link) {
      struct stat target {};
      if (::fstatat(dir.fd(), name, &target, 0) != 0 || S_ISDIR(target.st_mode)) continue;
    } else if (type != DT_REG) {
      continue;
    }
    std::string rel = prefix + name;
    const bool included = std::any_of(source.include.begin(), source.include.end(),
                                      [&](const std::string& g) { return GlobMatch(g, rel); });
    const bool excluded = std::any_of(source.exclude.begin(), source.exclude.end(),
                                      [&](const std::string& g) { return GlobMatch(g, rel); });
    if (!included || excluded) continue;
    DiscoveredDocument doc;
    doc.source_id = MakeSourceId(source.name, rel);
    doc.source = source.name;
    if (IsValidUtf8(rel)) {
      doc.path = std::move(rel);
    } else {
      doc.path = EscapeInvalidUtf8(rel);
      doc.name_error = "the file name is not valid UTF-8 (its bad bytes shown as \\xNN); rename it to ingest it";
    }
    doc.symlink = is_link;
    if (!is_link && (stated || ::fstatat(dir.fd(), name, &st, AT_SYMLINK_NOFOLLOW) == 0)) {
      doc.bytes = static_cast<uint64_t>(st.st_size);
      doc.mtime_ns = static_cast<int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec;
    }
    docs->push_back(std::move(doc));
  }
  if (errno != 0) {
    return WalkingError(source, prefix);
  }
  return Status::Ok();
}

}  // namespace

Result<std::vector<DiscoveredDocument>> DiscoverDocuments(const SourceConfig& source) {
  const std::string root_name = "source " + source.name + ": root " + source.root.string();
  DirectoryReader root(::open(source.root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!root.ok()) {
    if (errno == ENOENT || errno == ENOTDIR) return NotFound(root_name + " is not a directory");
    return ErrnoStatus(errno, root_name);
  }
  std::vector<DiscoveredDocument> docs;
  // Subdirectories still to read, relative to the root and opened from it
  // one at a time: a directory of ten thousand directories holds no more
  // descriptors than one of files.
  std::vector<std::string> pending;
  INGEST_RETURN_IF_ERROR(ReadDirectory(source, root, "", &docs, &pending));
  while (!pending.empty()) {
    const std::string prefix = std::move(pending.back());
    pending.pop_back();
    DirectoryReader dir(::openat(root.fd(), prefix.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!dir.ok()) {
      // Unreadable directories are passed over, as are ones gone since
      // they were listed.
      if (errno == EACCES || errno == EPERM || errno == ENOENT || errno == ENOTDIR || errno == ELOOP) continue;
      return WalkingError(source, prefix);
    }
    INGEST_RETURN_IF_ERROR(ReadDirectory(source, dir, prefix, &docs, &pending));
  }
  std::sort(docs.begin(), docs.end(),
            [](const DiscoveredDocument& a, const DiscoveredDocument& b) { return a.source_id < b.source_id; });
  return docs;
}

}  // namespace ingest
