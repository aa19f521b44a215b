#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/config.h"
#include "common/status.h"

namespace ingest {

// One document found in a `files` source.
struct DiscoveredDocument {
  std::string source_id;  // stable: derived from source name and relative path
  std::string source;
  std::string path;  // relative to the source root, '/'-separated
  uint64_t bytes = 0;
};

// Stable document id: "doc_" + 16 hex digits of sha256(source, path).
std::string MakeSourceId(const std::string& source, const std::string& path);

// Lists the regular files of a `files` source that match its include globs
// and none of its exclude globs, sorted by source_id. Symlinked directories
// are not followed; symlinked files are listed and checked by the worker's
// path safety when read. NotFound / PermissionDenied name the source root.
Result<std::vector<DiscoveredDocument>> DiscoverDocuments(const SourceConfig& source);

}  // namespace ingest
