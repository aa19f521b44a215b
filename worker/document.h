#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "common/status.h"
#include "proto/fleet.pb.h"

namespace ingest {

// Largest document a worker reads whole by default.
inline constexpr uint64_t kMaxReadBytes = uint64_t{256} << 20;

// The real path of a document, resolved inside its source root:
// PermissionDenied when it leaves the root, NotFound when missing,
// InvalidArgument when it is not a regular file. Within a
// DocumentResolutionScope on this thread, a document resolved once is not
// resolved again.
Result<std::filesystem::path> ResolveDocumentPath(const DocumentRef& ref);

// While one lives on a thread, ResolveDocumentPath remembers what it
// resolved there: a pass reads its document up to four times (its head, its
// text, its checksum, its size), and each resolution walks every component
// of the root and of the path (a readlink each). RunTask holds one for each
// task, so every task resolves its document afresh. Scopes nest; the inner
// one remembers on its own.
class DocumentResolutionScope {
 public:
  DocumentResolutionScope();
  ~DocumentResolutionScope();
  DocumentResolutionScope(const DocumentResolutionScope&) = delete;
  DocumentResolutionScope& operator=(const DocumentResolutionScope&) = delete;

 private:
  friend Result<std::filesystem::path> ResolveDocumentPath(const DocumentRef& ref);
  struct Resolved {
    std::string root;
    std::string path;
    std::filesystem::path real;
  };
  std::vector<Resolved> resolved_;
  DocumentResolutionScope* outer_;
};

// Reads bytes [offset, offset+length) of a document (length UINT64_MAX: to
// the end). OutOfRange (permanent) when more than `max_bytes` would be read.
Result<std::string> ReadDocumentBytes(const DocumentRef& ref, uint64_t offset = 0, uint64_t length = UINT64_MAX,
                                      uint64_t max_bytes = kMaxReadBytes);

// Size of the document in bytes.
Result<uint64_t> DocumentSize(const DocumentRef& ref);

}  // namespace ingest
