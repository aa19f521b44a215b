// Pass C's chunker over any text: the first two bytes choose chunk_chars
// (64..319, as small as the config allows) and overlap_chars (below it),
// the rest is a document whose headings are the breaks. Every span lies in
// the text on UTF-8 boundaries, spans advance, none crosses a break, and
// only whitespace falls between chunks.

#include <algorithm>

#include "common/utf8.h"
#include "fuzz/fuzz_scratch.h"
#include "worker/formats/formats.h"
#include "worker/passes/passes.h"

namespace ingest::fuzz {
namespace {

bool IsBoundary(std::string_view text, size_t at) {
  return at == text.size() || !IsUtf8Continuation(static_cast<unsigned char>(text[at]));
}

bool IsBlank(std::string_view text) {
  return std::all_of(text.begin(), text.end(),
                     [](char c) { return c == ' ' || c == '\n' || c == '\t' || c == '\r' || c == '\f' || c == '\v'; });
}

}  // namespace
}  // namespace ingest::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace ingest;
  if (size < 2) return 0;
  ChunkerOptions options;
  options.chunk_chars = 64 + data[0];
  options.overlap_chars = data[1] % options.chunk_chars;
  uint64_t replaced = 0;
  const std::string text = DecodeText(fuzz::AsText(data + 2, size - 2), &replaced);
  std::vector<size_t> breaks;
  for (const Section& section : TextHeadings(text, 64)) breaks.push_back(section.offset());

  const std::vector<TextSpan> spans = CutChunks(text, options, breaks);
  size_t covered = 0;
  size_t previous_begin = 0;
  for (const TextSpan& span : spans) {
    fuzz::Require(span.begin < span.end && span.end <= text.size());
    fuzz::Require(fuzz::IsBoundary(text, span.begin) && fuzz::IsBoundary(text, span.end));
    fuzz::Require(span.begin >= previous_begin);
    // Nothing but whitespace is left out between chunks.
    if (span.begin > covered)
      fuzz::Require(fuzz::IsBlank(std::string_view(text).substr(covered, span.begin - covered)));
    for (size_t at : breaks) fuzz::Require(at <= span.begin || at >= span.end);
    previous_begin = span.begin;
    covered = std::max(covered, span.end);
  }
  return 0;
}
