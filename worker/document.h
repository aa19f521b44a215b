#pragma once

#include <cstdint>
#include <filesystem>
#include <string>

#include "common/status.h"
#include "proto/fleet.pb.h"

namespace ingest {

// Largest document a worker reads whole by default.
inline constexpr uint64_t kMaxReadBytes = uint64_t{256} << 20;

// The real path of a document, resolved inside its source root:
// PermissionDenied when it leaves the root, NotFound when missing,
// InvalidArgument when it is not a regular file.
Result<std::filesystem::path> ResolveDocumentPath(const DocumentRef& ref);

// Reads bytes [offset, offset+length) of a document (length UINT64_MAX: to
// the end). OutOfRange (permanent) when more than `max_bytes` would be read.
Result<std::string> ReadDocumentBytes(const DocumentRef& ref, uint64_t offset = 0, uint64_t length = UINT64_MAX,
                                      uint64_t max_bytes = kMaxReadBytes);

// Size of the document in bytes.
Result<uint64_t> DocumentSize(const DocumentRef& ref);

}  // namespace ingest
