// Pass C: cuts one part of a document into chunks of bounded size with
// overlap, at sentence ends or whitespace, and labels each with its page and
// section path.

#include <algorithm>

#include "common/sha256.h"
#include "common/utf8.h"
#include "worker/passes/passes.h"

namespace ingest {
namespace {

bool IsSpace(char c) { return c == ' ' || c == '\n' || c == '\t' || c == '\r' || c == '\f' || c == '\v'; }

size_t SkipSpace(std::string_view text, size_t pos) {
  while (pos < text.size() && IsSpace(text[pos])) ++pos;
  return pos;
}

// Advances `count` code points from `pos`.
size_t AdvanceCodePoints(std::string_view text, size_t pos, size_t count) {
  while (pos < text.size() && count > 0) {
    ++pos;
    while (pos < text.size() && IsUtf8Continuation(static_cast<unsigned char>(text[pos]))) ++pos;
    --count;
  }
  return pos;
}

size_t RetreatCodePoints(std::string_view text, size_t pos, size_t count) {
  while (pos > 0 && count > 0) {
    --pos;
    while (pos > 0 && IsUtf8Continuation(static_cast<unsigned char>(text[pos]))) --pos;
    --count;
  }
  return pos;
}

// Best end for a chunk starting at `begin` that may not pass `limit`: after a
// sentence end or paragraph break in the second half, else at the last
// whitespace, else at `limit` itself (a code point boundary).
size_t FindCut(std::string_view text, size_t begin, size_t limit) {
  const size_t floor = begin + (limit - begin) / 2;
  for (size_t i = limit; i > floor; --i) {
    char prev = text[i - 1];
    bool next_is_space = i >= text.size() || IsSpace(text[i]);
    if (next_is_space && (prev == '.' || prev == '!' || prev == '?' || prev == ';')) return i;
    if (prev == '\n' && i >= 2 && text[i - 2] == '\n') return i;
    // CJK full stop, U+3002, ends a sentence without a following space.
    if (i >= 3 && text.compare(i - 3, 3, "\xE3\x80\x82") == 0) return i;
  }
  for (size_t i = limit; i > begin; --i) {
    if (IsSpace(text[i - 1])) return i;
  }
  return limit;
}

std::string_view TrimSpan(std::string_view text, TextSpan* span) {
  while (span->begin < span->end && IsSpace(text[span->begin])) ++span->begin;
  while (span->end > span->begin && IsSpace(text[span->end - 1])) --span->end;
  return text.substr(span->begin, span->end - span->begin);
}

}  // namespace

std::vector<TextSpan> CutChunks(std::string_view text, const ChunkerOptions& options,
                                const std::vector<size_t>& breaks) {
  std::vector<TextSpan> spans;
  const size_t target = std::max<size_t>(options.chunk_chars, 1);
  const size_t overlap = std::min(options.overlap_chars, target / 2);
  auto next_break = breaks.begin();
  size_t pos = SkipSpace(text, 0);
  while (pos < text.size()) {
    while (next_break != breaks.end() && *next_break <= pos) ++next_break;
    const size_t limit = AdvanceCodePoints(text, pos, target);
    size_t end;
    size_t next;
    if (next_break != breaks.end() && *next_break <= limit) {
      end = next = *next_break;  // a section starts: no overlap across it
    } else if (limit >= text.size()) {
      end = next = text.size();
    } else {
      end = FindCut(text, pos, limit);
      next = end;
      if (overlap > 0) {
        // Start the overlap at a word start so no chunk begins mid-word.
        size_t back = RetreatCodePoints(text, end, overlap);
        while (back < end && !IsSpace(text[back])) ++back;
        back = SkipSpace(text, back);
        if (back > pos && back < end) next = back;
      }
    }
    TextSpan span{pos, end};
    if (!TrimSpan(text, &span).empty()) spans.push_back(span);
    pos = SkipSpace(text, std::max(next, pos + 1));
  }
  return spans;
}

std::vector<ChunkRecord> ChunkPart(std::string_view text, const SplitRecord& part, const PartLayout& layout,
                                   const std::string& format, const ChunkerOptions& options) {
  const uint64_t base = part.byte_start();
  std::vector<size_t> breaks;
  auto add_break = [&](uint64_t offset) {
    if (offset > base && offset < base + text.size()) breaks.push_back(offset - base);
  };
  for (const Section& s : layout.sections) add_break(s.offset());
  for (uint64_t b : layout.breaks) add_break(b);
  std::sort(breaks.begin(), breaks.end());
  breaks.erase(std::unique(breaks.begin(), breaks.end()), breaks.end());

  std::vector<ChunkRecord> chunks;
  std::vector<const Section*> stack;  // open sections, outermost first
  size_t next_section = 0;
  for (const TextSpan& span : CutChunks(text, options, breaks)) {
    const uint64_t start = base + span.begin;
    while (next_section < layout.sections.size() && layout.sections[next_section].offset() <= start) {
      const Section& s = layout.sections[next_section++];
      while (!stack.empty() && stack.back()->level() >= s.level()) stack.pop_back();
      stack.push_back(&s);
    }
    std::string section_path;
    for (const Section* s : stack) {
      if (!section_path.empty()) section_path += " > ";
      section_path += s->title();
    }
    std::string chunk_text = SanitizeUtf8(text.substr(span.begin, span.end - span.begin));
    ChunkRecord c;
    c.set_chunk_id(ContentId("chk_", part.source_id() + '\0' + std::to_string(start) + '\0' + chunk_text));
    c.set_source_id(part.source_id());
    c.set_part(part.part());
    c.set_page(PageAt(layout.page_starts, layout.first_page, start));
    c.set_section(section_path);
    ChunkMetadata* m = c.mutable_metadata();
    m->set_byte_start(start);
    m->set_byte_end(base + span.end);
    m->set_chars(static_cast<uint32_t>(CountCodePoints(chunk_text)));
    m->set_format(format);
    m->set_ordinal(static_cast<uint32_t>(chunks.size()));
    c.set_text(std::move(chunk_text));
    chunks.push_back(std::move(c));
  }
  return chunks;
}

}  // namespace ingest
