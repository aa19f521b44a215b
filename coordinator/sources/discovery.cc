#include "coordinator/sources/discovery.h"

#include <sys/stat.h>

#include <algorithm>
#include <filesystem>

#include "common/glob.h"
#include "common/sha256.h"
#include "common/utf8.h"

namespace ingest {

std::string MakeSourceId(const std::string& source, const std::string& path) {
  return ContentId("doc_", source + '\0' + path);
}

namespace {

// `path` relative to `root`, as lexically_relative says. The walk's paths
// are the root as spelled plus the rest, so that rest is taken as it is,
// without taking both paths apart for every file.
std::string RelativeToRoot(const std::filesystem::path& path, const std::filesystem::path& root) {
  const std::string& p = path.native();
  const std::string& r = root.native();
  const size_t rest = !r.empty() && r.back() == '/' ? r.size() : r.size() + 1;
  if (!r.empty() && p.size() > rest && p.compare(0, r.size(), r) == 0 && p[rest - 1] == '/' &&
      p.find("/.", rest - 1) == std::string::npos && p.find("//", rest - 1) == std::string::npos) {
    return p.substr(rest);
  }
  return path.lexically_relative(root).generic_string();
}

}  // namespace

Result<std::vector<DiscoveredDocument>> DiscoverDocuments(const SourceConfig& source) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (!fs::is_directory(source.root, ec)) {
    return NotFound("source " + source.name + ": root " + source.root.string() + " is not a directory");
  }
  std::vector<DiscoveredDocument> docs;
  fs::recursive_directory_iterator it(source.root, fs::directory_options::skip_permission_denied, ec);
  if (ec) return ErrnoStatus(ec.value(), "source " + source.name + ": root " + source.root.string());
  for (; it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (ec) return ErrnoStatus(ec.value(), "source " + source.name + ": walking " + source.root.string());
    const fs::directory_entry& entry = *it;
    std::error_code kind_ec;
    if (entry.is_directory(kind_ec) || kind_ec) continue;
    bool is_link = entry.is_symlink(kind_ec);
    if (!is_link && !entry.is_regular_file(kind_ec)) continue;
    // Lexical: fs::relative would resolve a symlink and name its target.
    std::string rel = RelativeToRoot(entry.path(), source.root);
    if (rel.empty() || rel.starts_with("..")) continue;
    bool included = std::any_of(source.include.begin(), source.include.end(),
                                [&](const std::string& g) { return GlobMatch(g, rel); });
    bool excluded = std::any_of(source.exclude.begin(), source.exclude.end(),
                                [&](const std::string& g) { return GlobMatch(g, rel); });
    if (!included || excluded) continue;
    DiscoveredDocument doc;
    doc.source_id = MakeSourceId(source.name, rel);
    doc.source = source.name;
    if (IsValidUtf8(rel)) {
      doc.path = rel;
    } else {
      doc.path = EscapeInvalidUtf8(rel);
      doc.name_error = "the file name is not valid UTF-8 (its bad bytes shown as \\xNN); rename it to ingest it";
    }
    doc.symlink = is_link;
    struct stat st {};
    if (!is_link && ::stat(entry.path().c_str(), &st) == 0) {
      doc.bytes = static_cast<uint64_t>(st.st_size);
      doc.mtime_ns = static_cast<int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec;
    }
    docs.push_back(std::move(doc));
  }
  // recursive_directory_iterator does not descend into symlinked directories
  // unless asked to, so nothing outside the root is listed.
  std::sort(docs.begin(), docs.end(),
            [](const DiscoveredDocument& a, const DiscoveredDocument& b) { return a.source_id < b.source_id; });
  return docs;
}

}  // namespace ingest
