#include "coordinator/sources/discovery.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <filesystem>
#include <optional>
#include <string_view>

#include "common/glob.h"
#include "common/sha256.h"
#include "common/utf8.h"

namespace ingest {

std::string MakeSourceId(const std::string& source, const std::string& path) {
  return ContentId("doc_", source + '\0' + path);
}

namespace {

// A descriptor closed when its scope is left.
class Descriptor {
 public:
  explicit Descriptor(int fd) : fd_(fd) {}
  Descriptor(const Descriptor&) = delete;
  Descriptor& operator=(const Descriptor&) = delete;
  ~Descriptor() {
    if (fd_ >= 0) ::close(fd_);
  }
  int get() const { return fd_; }

 private:
  int fd_;
};

// One directory of the walk, read with the kernel's own file types and
// looked into relative to its descriptor: std::filesystem's iterator built
// a path of every entry and stat'ed each file by its full name, which was
// most of a rerun's walk (bench/sources_bench.cc).
class DirectoryReader {
 public:
  // `dir_fd` (an open directory) is owned from here on. When it cannot be
  // read, ok() is false and errno says why.
  explicit DirectoryReader(int dir_fd) : dir_(::fdopendir(dir_fd)) {
    if (dir_ == nullptr) {
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

}  // namespace

Result<std::vector<DiscoveredDocument>> DiscoverDocuments(const SourceConfig& source) {
  const std::string root_name = "source " + source.name + ": root " + source.root.string();
  Descriptor root(::open(source.root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (root.get() < 0) {
    if (errno == ENOENT || errno == ENOTDIR) return NotFound(root_name + " is not a directory");
    return ErrnoStatus(errno, root_name);
  }
  std::vector<DiscoveredDocument> docs;
  // Directories still to read, relative to the root ("" is the root, the
  // others end in '/'). Opened one at a time: a directory of ten thousand
  // directories holds no more descriptors than one of files.
  std::vector<std::string> pending = {""};
  while (!pending.empty()) {
    const std::string prefix = std::move(pending.back());
    pending.pop_back();
    const auto walking = [&] { return "source " + source.name + ": walking " + (source.root / prefix).string(); };
    const int fd = prefix.empty()
                       ? ::dup(root.get())
                       : ::openat(root.get(), prefix.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    std::optional<DirectoryReader> dir;
    if (fd >= 0) dir.emplace(fd);
    if (!dir || !dir->ok()) {
      // Unreadable directories are passed over, as are ones gone since
      // they were listed.
      if (errno == EACCES || errno == EPERM || errno == ENOENT || errno == ENOTDIR || errno == ELOOP) continue;
      return ErrnoStatus(errno, walking());
    }
    while (const dirent* entry = dir->Next()) {
      const char* name = entry->d_name;
      struct stat st {};
      bool stated = false;
      unsigned char type = entry->d_type;
      if (type == DT_UNKNOWN) {  // file systems that do not say
        if (::fstatat(dir->fd(), name, &st, AT_SYMLINK_NOFOLLOW) != 0) continue;
        type = IFTODT(st.st_mode);
        stated = true;
      }
      std::string rel = prefix + name;
      if (type == DT_DIR) {
        pending.push_back(rel + '/');
        continue;
      }
      // A symlink is listed when it leads to something other than a
      // directory; its target is checked whenever it is read. Symlinked
      // directories are neither listed nor walked into, and a dangling
      // link is not listed.
      const bool is_link = type == DT_LNK;
      if (is_link) {
        struct stat target {};
        if (::fstatat(dir->fd(), name, &target, 0) != 0 || S_ISDIR(target.st_mode)) continue;
      } else if (type != DT_REG) {
        continue;
      }
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
      if (!is_link && (stated || ::fstatat(dir->fd(), name, &st, AT_SYMLINK_NOFOLLOW) == 0)) {
        doc.bytes = static_cast<uint64_t>(st.st_size);
        doc.mtime_ns = static_cast<int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec;
      }
      docs.push_back(std::move(doc));
    }
    if (errno != 0) return ErrnoStatus(errno, walking());
  }
  std::sort(docs.begin(), docs.end(),
            [](const DiscoveredDocument& a, const DiscoveredDocument& b) { return a.source_id < b.source_id; });
  return docs;
}

}  // namespace ingest
