// Pass B: cuts documents over the threshold into line-aligned byte ranges, so
// that pass C can chunk a large document on several workers at once.

#include <fcntl.h>
#include <unistd.h>

#include <cmath>

#include "common/path_safety.h"
#include "worker/document.h"
#include "worker/passes/passes.h"

namespace ingest {
namespace {

constexpr size_t kBlock = 1 << 16;

// Closes a descriptor on every return path.
struct FdCloser {
  int fd;
  ~FdCloser() { ::close(fd); }
};

}  // namespace

Result<std::vector<SplitRecord>> SplitDocument(const DocumentRef& doc, double threshold_mb) {
  INGEST_ASSIGN_OR_RETURN(uint64_t size, DocumentSize(doc));
  INGEST_ASSIGN_OR_RETURN(std::filesystem::path real, ResolveInsideRoot(doc.root(), doc.path()));
  const double size_mb = static_cast<double>(size) / (1024.0 * 1024.0);
  const uint64_t threshold = static_cast<uint64_t>(threshold_mb * 1024.0 * 1024.0);
  const uint64_t parts = (threshold == 0 || size <= threshold) ? 1 : (size + threshold - 1) / threshold;

  int fd = ::open(real.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return ErrnoStatus(errno, doc.path());
  FdCloser closer{fd};

  // One streaming read: count form feeds (pages) and cut at the first line
  // break at or after each even share of the size.
  std::vector<SplitRecord> out;
  uint64_t part_start = 0;
  uint32_t page = 1;
  uint32_t part_page = 1;
  uint64_t next_target = parts > 1 ? size / parts : UINT64_MAX;
  std::string block(kBlock, '\0');
  uint64_t pos = 0;
  auto emit = [&](uint64_t end) {
    SplitRecord r;
    r.set_source_id(doc.source_id());
    r.set_part(static_cast<uint32_t>(out.size()));
    r.set_byte_start(part_start);
    r.set_byte_end(end);
    r.set_size_mb(size_mb);
    r.set_page_start(part_page);
    out.push_back(std::move(r));
    part_start = end;
    part_page = page;
    next_target = (out.size() + 1 < parts) ? size * (out.size() + 1) / parts : UINT64_MAX;
    if (next_target < part_start) next_target = part_start;
  };
  while (pos < size) {
    ssize_t n = ::pread(fd, block.data(), block.size(), static_cast<off_t>(pos));
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoStatus(errno, doc.path());
    }
    if (n == 0) break;
    for (ssize_t i = 0; i < n; ++i) {
      char c = block[static_cast<size_t>(i)];
      uint64_t at = pos + static_cast<uint64_t>(i);
      if (c == '\f') ++page;
      if (c == '\n' && at >= next_target && at + 1 < size) emit(at + 1);
    }
    pos += static_cast<uint64_t>(n);
  }
  // A document without line breaks stays one part: cutting it would split a line.
  emit(pos);
  uint32_t total = static_cast<uint32_t>(out.size());
  for (SplitRecord& r : out) r.set_parts(total);
  return out;
}

}  // namespace ingest
