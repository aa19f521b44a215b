#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "common/config.h"
#include "common/status.h"
#include "coordinator/sources/discovery.h"
#include "coordinator/state/state_store.h"

namespace ingest {

enum class Change { kNew, kModified, kUnchanged };

const char* ChangeName(Change change);  // new | modified | unchanged

struct DetectedDocument {
  DiscoveredDocument document;
  std::string checksum;  // sha256 of the content; "" when it could not be read
  int64_t mtime_ns = 0;
  Change change = Change::kNew;
  std::string previous_checksum;  // the stored one, when modified
  // From the store: the document failed last time, and how many runs in a row.
  bool previously_failed = false;
  uint32_t consecutive_failures = 0;
  // http pages: the validators of the response the checksum came from.
  std::string etag;
  std::string last_modified;
};

struct SourceChanges {
  std::vector<DetectedDocument> documents;  // in discovery (source_id) order
  std::vector<StoredDocument> deleted;      // known to the store, gone from the source
  uint32_t hashed = 0;                      // documents whose content was read
};

// The sha256 of each file, in order; empty for one that cannot be read.
// A full refresh or a first run reads the whole corpus before any task can
// start: the files are spread over the machine's cores (up to
// kMaxHashThreads, a thread for each kFilesPerHashThread files).
inline constexpr size_t kMaxHashThreads = 8;
inline constexpr size_t kFilesPerHashThread = 256;
std::vector<std::string> Sha256Files(const std::vector<std::filesystem::path>& files);

// Compares what discovery found with what the store remembers of the
// source. The sha256 of a document's content decides; a document whose size
// and mtime equal the stored ones keeps its stored checksum without being
// read, unless `hash_all` (--full-refresh, --baseline). Files are read only
// through the source root's path safety: a symlink out of the root is not
// read here (the worker fails it).
SourceChanges DetectChanges(const SourceConfig& source, std::vector<DiscoveredDocument> discovered,
                            const std::map<std::string, StoredDocument>& stored, bool hash_all);

// The comparison half of DetectChanges, for documents whose checksum is
// known: sets each one's change and history from the store, and lists the
// stored documents not among them as deleted.
SourceChanges CompareWithStore(std::vector<DetectedDocument> found,
                               const std::map<std::string, StoredDocument>& stored);

}  // namespace ingest
