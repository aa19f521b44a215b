#include "coordinator/sources/change_detection.h"

#include <sys/stat.h>

#include <algorithm>
#include <atomic>
#include <optional>
#include <string_view>
#include <system_error>
#include <thread>
#include <vector>

#include "common/path_safety.h"
#include "common/sha256.h"

namespace ingest {

const char* ChangeName(Change change) {
  switch (change) {
    case Change::kNew:
      return "new";
    case Change::kModified:
      return "modified";
    case Change::kUnchanged:
      return "unchanged";
  }
  return "?";
}

SourceChanges CompareWithStore(std::vector<DetectedDocument> found,
                               const std::map<std::string, StoredDocument>& stored) {
  // Compared where they are: a second vector of them would be a megabyte of
  // fresh pages per 4,000 documents, each page a fault.
  for (DetectedDocument& detected : found) {
    auto previous = stored.find(detected.document.source_id);
    if (previous != stored.end() && previous->second.last_status != "deleted") {
      detected.previously_failed = previous->second.last_status == "failed";
      detected.consecutive_failures = previous->second.consecutive_failures;
      const bool same = !detected.checksum.empty() && detected.checksum == previous->second.checksum;
      detected.change = same ? Change::kUnchanged : Change::kModified;
      if (!same) detected.previous_checksum = previous->second.checksum;
    }
  }
  SourceChanges changes;
  changes.documents = std::move(found);
  // Views of the ids just kept (the vector no longer grows), sorted: no
  // copy of every id into a set.
  std::vector<std::string_view> seen;
  seen.reserve(changes.documents.size());
  for (const DetectedDocument& d : changes.documents) seen.push_back(d.document.source_id);
  std::sort(seen.begin(), seen.end());
  for (const auto& [id, doc] : stored) {
    if (doc.last_status != "deleted" && !std::binary_search(seen.begin(), seen.end(), std::string_view(id))) {
      changes.deleted.push_back(doc);
    }
  }
  return changes;
}

std::vector<std::string> Sha256Files(const std::vector<std::filesystem::path>& files) {
  std::vector<std::string> sums(files.size());
  std::atomic<size_t> next{0};
  const auto read = [&] {
    for (size_t i = next++; i < files.size(); i = next++) {
      // Unreadable: no checksum, so the document counts as changed and its
      // pass A task reports why.
      if (Result<std::string> sha = Sha256File(files[i]); sha.ok()) sums[i] = std::move(*sha);
    }
  };
  const size_t threads = std::min<size_t>({std::max(1u, std::thread::hardware_concurrency()), kMaxHashThreads,
                                           (files.size() + kFilesPerHashThread - 1) / kFilesPerHashThread});
  std::vector<std::thread> others;
  others.reserve(threads > 0 ? threads - 1 : 0);
  for (size_t t = 1; t < threads; ++t) {
    // Where no thread can be had (a container's process limit), fewer
    // read: this one takes whatever is left.
    try {
      others.emplace_back(read);
    } catch (const std::system_error&) {
      break;
    }
  }
  read();
  for (std::thread& thread : others) thread.join();
  return sums;
}

SourceChanges DetectChanges(const SourceConfig& source, std::vector<DiscoveredDocument> discovered,
                            const std::map<std::string, StoredDocument>& stored, bool hash_all) {
  std::vector<DetectedDocument> found;
  found.reserve(discovered.size());
  // Documents to read, by their place in `found`: read after the loop, on
  // several threads.
  std::vector<size_t> to_read;
  std::vector<std::filesystem::path> files;
  for (DiscoveredDocument& doc : discovered) {
    DetectedDocument detected;
    if (!doc.name_error.empty()) {  // not read: its name cannot be carried (discovery.h)
      detected.document = std::move(doc);
      found.push_back(std::move(detected));
      continue;
    }
    auto previous = stored.find(doc.source_id);
    const bool known = previous != stored.end() && previous->second.last_status != "deleted";
    // Discovery stat'ed every file but symlinks, whose targets are resolved
    // and kept inside the root here.
    std::optional<Result<std::filesystem::path>> target;
    detected.mtime_ns = doc.mtime_ns;
    if (doc.symlink) {
      target = ResolveInsideRoot(source.root, doc.path);
      struct stat st {};
      if (target->ok() && ::stat((*target)->c_str(), &st) == 0) {
        detected.mtime_ns = static_cast<int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec;
      }
    }
    const bool same_stat = known && !previous->second.checksum.empty() && previous->second.size == doc.bytes &&
                           previous->second.mtime_ns == detected.mtime_ns && detected.mtime_ns != 0;
    if (same_stat && !hash_all) {
      detected.checksum = previous->second.checksum;
    } else if (Result<std::filesystem::path> real =
                   target ? *target : Result<std::filesystem::path>(source.root / doc.path);
               real.ok()) {
      to_read.push_back(found.size());
      files.push_back(std::move(*real));
    }
    detected.document = std::move(doc);
    found.push_back(std::move(detected));
  }
  std::vector<std::string> sums = Sha256Files(files);
  for (size_t k = 0; k < to_read.size(); ++k) found[to_read[k]].checksum = std::move(sums[k]);
  SourceChanges changes = CompareWithStore(std::move(found), stored);
  changes.hashed = static_cast<uint32_t>(to_read.size());
  return changes;
}

}  // namespace ingest
