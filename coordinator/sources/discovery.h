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
  // Of the file (0 for a symlink, whose target the reader checks).
  int64_t mtime_ns = 0;
  // A symlink: where it leads is resolved, and checked to stay inside the
  // root, whenever it is read. Any other document lies inside the root: the
  // walk does not follow symlinked directories.
  bool symlink = false;
  // Set when the name cannot be carried to the workers (it is not UTF-8,
  // which every record and the manifest are): `path` is then its escaped
  // form, the document fails at once with kind "invalid_name", and
  // source_id still comes from the name as it is on disk.
  std::string name_error;
};

// Stable document id: "doc_" + 16 hex digits of sha256(source, path).
std::string MakeSourceId(const std::string& source, const std::string& path);

// Lists the regular files of a `files` source that match its include globs
// and none of its exclude globs, sorted by source_id. Symlinked directories
// are not followed; symlinked files are listed and checked by the worker's
// path safety when read. A name that is not UTF-8 is listed with its
// name_error set. NotFound / PermissionDenied name the source root.
Result<std::vector<DiscoveredDocument>> DiscoverDocuments(const SourceConfig& source);

}  // namespace ingest
