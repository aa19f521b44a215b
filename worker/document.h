#pragma once

#include <cstdint>
#include <string>

#include "common/status.h"
#include "proto/fleet.pb.h"

namespace ingest {

// Largest document a worker reads whole (passes A and B stream; C reads one part).
inline constexpr uint64_t kMaxReadBytes = uint64_t{256} << 20;

// Format from content first, the extension as a hint: markdown | text.
// InvalidArgument (permanent) for binary content.
Result<std::string> DetectFormat(const std::string& path, std::string_view head);

// Reads bytes [offset, offset+length) of a document, resolving its path
// inside the source root (PermissionDenied when it leaves the root). A
// length of UINT64_MAX reads to the end. OutOfRange above kMaxReadBytes.
Result<std::string> ReadDocumentBytes(const DocumentRef& ref, uint64_t offset = 0,
                                      uint64_t length = UINT64_MAX);

// Size of the document in bytes, resolving its path the same way.
Result<uint64_t> DocumentSize(const DocumentRef& ref);

}  // namespace ingest
