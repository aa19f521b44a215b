// Pass B: cuts large documents into parts that pass C chunks on several
// workers at once: PDFs into page ranges, other formats into line-aligned
// ranges of their extracted text.

#include <algorithm>

#include "worker/passes/passes.h"

namespace ingest {

namespace {

uint64_t ThresholdBytes(const SplitOptions& options) {
  return std::max<uint64_t>(1, static_cast<uint64_t>(options.threshold_mb * 1024.0 * 1024.0));
}

}  // namespace

bool SplitNeedsText(const SplitInput& input, const SplitOptions& options) {
  return input.format != kFormatPdf && input.text_size > ThresholdBytes(options);
}

std::vector<SplitRecord> SplitDocument(const std::string& source_id, const SplitInput& doc,
                                       const SplitOptions& options) {
  const uint64_t file_bytes = doc.file_bytes;
  const double size_mb = static_cast<double>(file_bytes) / (1024.0 * 1024.0);
  const uint64_t size = doc.text_size;
  constexpr uint32_t kFirstPage = 1;
  const uint64_t threshold = ThresholdBytes(options);
  // Cut points in the extracted text, with the page each part starts on.
  std::vector<std::pair<uint64_t, uint32_t>> cuts = {{0, kFirstPage}};
  const uint32_t pages = static_cast<uint32_t>(doc.page_starts.size());
  if (doc.format == kFormatPdf && (pages > options.split_pages || file_bytes > threshold)) {
    uint32_t per_part = std::max<uint32_t>(1, options.split_pages);
    if (file_bytes > threshold) {
      // Enough parts that each covers about threshold bytes of the file.
      uint64_t parts = (file_bytes + threshold - 1) / threshold;
      per_part =
          std::min<uint32_t>(per_part, std::max<uint32_t>(1, static_cast<uint32_t>((pages + parts - 1) / parts)));
    }
    for (uint32_t i = per_part; i < pages; i += per_part) cuts.emplace_back(doc.page_starts[i], kFirstPage + i);
  } else if (doc.format != kFormatPdf && size > threshold) {
    const uint64_t parts = (size + threshold - 1) / threshold;
    for (uint64_t k = 1; k < parts; ++k) {
      uint64_t target = size * k / parts;
      if (target <= cuts.back().first) continue;
      size_t newline = doc.text.find('\n', target);
      // A document without line breaks after the target keeps its tail whole.
      if (newline == std::string::npos || newline + 1 >= size) break;
      uint64_t at = newline + 1;
      cuts.emplace_back(at, PageAt(doc.page_starts, kFirstPage, at));
    }
  }
  std::vector<SplitRecord> out;
  for (size_t i = 0; i < cuts.size(); ++i) {
    SplitRecord r;
    r.set_source_id(source_id);
    r.set_part(static_cast<uint32_t>(i));
    r.set_parts(static_cast<uint32_t>(cuts.size()));
    r.set_byte_start(cuts[i].first);
    // A PDF part ends before the form feed that separates it from the next
    // page, so that it equals the text of its pages extracted on their own.
    uint64_t end = i + 1 < cuts.size() ? cuts[i + 1].first - (doc.format == kFormatPdf ? 1 : 0) : size;
    r.set_byte_end(end);
    r.set_page_start(cuts[i].second);
    r.set_page_end(i + 1 < cuts.size() ? cuts[i + 1].second - 1 : kFirstPage + pages - 1);
    r.set_size_mb(size_mb);
    out.push_back(std::move(r));
  }
  return out;
}

}  // namespace ingest
