#pragma once

// The work of each pass on one task. Pure functions of their inputs (the
// document bytes and the task), so results are deterministic and testable
// without a fleet.

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "proto/contracts.pb.h"
#include "proto/fleet.pb.h"

namespace ingest {

// ---- Pass A: sections (headings) and dictionary terms of one document.
struct TocOptions {
  // Caps that keep a pathological document from producing a huge record.
  size_t max_sections = 20000;
  size_t max_terms = 2000;
};
TocRecord BuildToc(const DocumentRef& doc, std::string_view text, const std::string& format,
                   const TocOptions& options = {});

// ---- Pass B: line-aligned parts of a document.
// Reads the document in blocks; documents up to `threshold_mb` are one part.
Result<std::vector<SplitRecord>> SplitDocument(const DocumentRef& doc, double threshold_mb);

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

// Chunks one part (`text` holds bytes [part.byte_start, part.byte_end)).
std::vector<ChunkRecord> ChunkPart(std::string_view text, const SplitRecord& part,
                                   const std::vector<Section>& sections, const std::string& format,
                                   const ChunkerOptions& options);

// ---- Pass D: enrichment of one document's chunks.
EnrichedRecord EnrichChunk(const ChunkRecord& chunk, const std::vector<std::string>& dictionary);
// Whitespace collapsed to single spaces, trimmed, case folded.
std::string NormalizeText(std::string_view text);

// ---- Pass E: graph of one document. Entity nodes carry an empty source_id.
std::vector<GraphRecord> CompileGraph(const TocRecord& toc, const std::vector<ChunkRecord>& chunks,
                                      const std::vector<EnrichedRecord>& enriched);
std::string EntityNodeId(std::string_view name);

// ---- Pass F: per-document integrity checks and chunk digests.
void ValidateDocument(const RecordBatch& inputs, RecordBatch* out);

}  // namespace ingest
