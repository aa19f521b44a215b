#include "worker/document.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>

#include "common/path_safety.h"

namespace ingest {

namespace {

thread_local DocumentResolutionScope* current_scope = nullptr;

}  // namespace

DocumentResolutionScope::DocumentResolutionScope() : outer_(current_scope) { current_scope = this; }

DocumentResolutionScope::~DocumentResolutionScope() { current_scope = outer_; }

Result<std::filesystem::path> ResolveDocumentPath(const DocumentRef& ref) {
  DocumentResolutionScope* scope = current_scope;
  if (scope != nullptr) {
    for (const DocumentResolutionScope::Resolved& r : scope->resolved_) {
      if (r.root == ref.root() && r.path == ref.path()) return r.real;
    }
  }
  INGEST_ASSIGN_OR_RETURN(std::filesystem::path real, ResolveInsideRoot(ref.root(), ref.path()));
  struct stat st {};
  if (::stat(real.c_str(), &st) != 0) return ErrnoStatus(errno, ref.path());
  if (!S_ISREG(st.st_mode)) return InvalidArgument(ref.path() + ": not a regular file");
  if (scope != nullptr) scope->resolved_.push_back({ref.root(), ref.path(), real});
  return real;
}

Result<uint64_t> DocumentSize(const DocumentRef& ref) {
  INGEST_ASSIGN_OR_RETURN(std::filesystem::path real, ResolveDocumentPath(ref));
  struct stat st {};
  if (::stat(real.c_str(), &st) != 0) return ErrnoStatus(errno, ref.path());
  return static_cast<uint64_t>(st.st_size);
}

Result<std::string> ReadDocumentBytes(const DocumentRef& ref, uint64_t offset, uint64_t length, uint64_t max_bytes) {
  INGEST_ASSIGN_OR_RETURN(std::filesystem::path real, ResolveDocumentPath(ref));
  // O_NOFOLLOW: the path was resolved already; a symlink swapped in since is refused.
  int fd = ::open(real.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) return ErrnoStatus(errno, ref.path());
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    return InvalidArgument(ref.path() + ": not a regular file");
  }
  uint64_t size = static_cast<uint64_t>(st.st_size);
  uint64_t begin = std::min(offset, size);
  uint64_t end = length == UINT64_MAX ? size : std::min(size, begin + length);
  if (end - begin > max_bytes) {
    ::close(fd);
    return Status(StatusCode::kOutOfRange, ref.path() + ": " + std::to_string(end - begin) +
                                               " bytes exceed the read limit of " + std::to_string(max_bytes));
  }
  std::string bytes(end - begin, '\0');
  uint64_t done = 0;
  while (done < bytes.size()) {
    ssize_t n = ::pread(fd, bytes.data() + done, bytes.size() - done, static_cast<off_t>(begin + done));
    if (n < 0) {
      if (errno == EINTR) continue;
      int err = errno;
      ::close(fd);
      return ErrnoStatus(err, ref.path());
    }
    if (n == 0) break;  // file shrank meanwhile
    done += static_cast<uint64_t>(n);
  }
  ::close(fd);
  bytes.resize(done);
  return bytes;
}

}  // namespace ingest
