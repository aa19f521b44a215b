#pragma once

// The work of each pass on one task. Pure functions of their inputs (the
// document bytes and the task), so results are deterministic and testable
// without a fleet.

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/status.h"
#include "proto/contracts.pb.h"
#include "proto/fleet.pb.h"
#include "worker/formats/formats.h"

namespace ingest {

// ---- Pass A: sections (headings, outline) and dictionary terms of one
// document. `bytes` and `checksum` describe the raw file.
struct TocOptions {
  // Keeps a pathological document from producing a huge record.
  size_t max_terms = 2000;
};
TocRecord BuildToc(const DocumentRef& doc, const ExtractedDocument& extracted, uint64_t bytes,
                   const std::string& checksum, const TocOptions& options = {});

// ---- Pass B: parts of a document, as ranges of its extracted text. A PDF
// over `split_pages` pages or `threshold_mb` MiB is cut into page ranges; other
// formats over `threshold_mb` into line-aligned ranges of about that size.
struct SplitOptions {
  double threshold_mb = 20;
  uint32_t split_pages = 200;
};
// `text` is the extracted text; a PDF needs only its size and page starts,
// which pass A recorded, so `text` may be empty for one.
struct SplitInput {
  std::string format;
  std::string_view text;
  uint64_t text_size = 0;
  std::vector<uint64_t> page_starts = {0};
  uint64_t file_bytes = 0;
};
std::vector<SplitRecord> SplitDocument(const std::string& source_id, const SplitInput& input,
                                       const SplitOptions& options);
// Whether SplitDocument needs `input.text` (a text document over the
// threshold is cut at line ends), or its size and page starts suffice.
bool SplitNeedsText(const SplitInput& input, const SplitOptions& options);

// ---- Pass C: chunking.
struct ChunkerOptions {
  size_t chunk_chars = 1200;   // target size in code points
  size_t overlap_chars = 150;  // repeated from the previous chunk, code points
};
struct TextSpan {
  size_t begin = 0;
  size_t end = 0;
};
// Cuts `text` into spans of about `chunk_chars` code points, preferring a
// sentence end, then whitespace, never splitting a UTF-8 sequence. A chunk
// never spans a position in `breaks` (section starts, sorted); consecutive
// chunks overlap by about `overlap_chars` except across a break.
std::vector<TextSpan> CutChunks(std::string_view text, const ChunkerOptions& options,
                                const std::vector<size_t>& breaks);

// Chunks one part. `text` holds [part.byte_start, part.byte_end) of the
// document's extracted text; `sections`, `page_starts` (page_starts[i] is
// page first_page + i) and `breaks` are in whole-document offsets.
struct PartLayout {
  std::vector<Section> sections;
  std::vector<uint64_t> page_starts = {0};
  uint32_t first_page = 1;
  std::vector<uint64_t> breaks;  // extra chunk boundaries (code blocks)
};
std::vector<ChunkRecord> ChunkPart(std::string_view text, const SplitRecord& part, const PartLayout& layout,
                                   const std::string& format, const ChunkerOptions& options);

// ---- Pass D: enrichment of one document's chunks.
// The corpus dictionary (pass A's terms) prepared for matching: each term
// normalized once and indexed by its first word, so that a chunk's words are
// each checked against few terms. Immutable once built.
class EnrichDictionary {
 public:
  explicit EnrichDictionary(const std::vector<std::string>& terms);

  struct Term {
    std::vector<std::string> words;  // normalized
    std::string key;                 // "term\x1f" + the normalized term
    std::string name;                // as the dictionary gives it
  };
  // The terms whose first normalized word is `word`; null for none.
  const std::vector<Term>* StartingWith(std::string_view word) const;

 private:
  // Looked up by the views of a chunk's words (every word of the corpus),
  // without making a string of each.
  struct WordHash {
    using is_transparent = void;
    size_t operator()(std::string_view word) const { return std::hash<std::string_view>{}(word); }
  };
  std::unordered_map<std::string, std::vector<Term>, WordHash, std::equal_to<>> by_first_;
};
EnrichedRecord EnrichChunk(const ChunkRecord& chunk, const EnrichDictionary& dictionary);
// The same with a dictionary prepared for this chunk alone.
EnrichedRecord EnrichChunk(const ChunkRecord& chunk, const std::vector<std::string>& dictionary);
// Unicode NFC, case folded (utf8proc), whitespace collapsed to single spaces
// and trimmed.
std::string NormalizeText(std::string_view text);

// ---- Pass E: graph of one document. Entity nodes carry an empty source_id.
std::vector<GraphRecord> CompileGraph(const TocRecord& toc, const std::vector<ChunkRecord>& chunks,
                                      const std::vector<EnrichedRecord>& enriched);
std::string EntityNodeId(std::string_view name);

// ---- Pass F: per-document integrity checks and chunk digests.
void ValidateDocument(const RecordBatch& inputs, RecordBatch* out);

}  // namespace ingest
