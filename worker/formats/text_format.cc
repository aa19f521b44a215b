// Format detection, decoding to UTF-8, plain-text headings and pages, and the
// dispatch to the per-format extractors.

#include <algorithm>
#include <cctype>
#include <regex>

#include "common/sha256.h"
#include "common/utf8.h"
#include "worker/document.h"
#include "worker/formats/formats.h"

namespace ingest {
namespace {

bool HasExtension(const std::string& path, std::initializer_list<std::string_view> extensions) {
  const std::string lower = AsciiLower(path);
  return std::any_of(extensions.begin(), extensions.end(), [&](std::string_view e) { return lower.ends_with(e); });
}

// Magic numbers of binary formats people drop into document folders by mistake.
const char* BinaryKind(std::string_view head) {
  struct Magic {
    std::string_view bytes;
    const char* kind;
  };
  static const Magic kMagic[] = {{"PK\x03\x04", "zip archive (docx/xlsx?)"},
                                 {"\x89PNG", "PNG image"},
                                 {"GIF8", "GIF image"},
                                 {"\xFF\xD8\xFF", "JPEG image"},
                                 {"\x7F"
                                  "ELF",
                                  "ELF executable"},
                                 {"\x1F\x8B", "gzip archive"},
                                 {"\xD0\xCF\x11\xE0", "OLE document (doc/xls?)"}};
  for (const Magic& m : kMagic) {
    if (head.starts_with(m.bytes)) return m.kind;
  }
  return nullptr;
}

bool IsPdf(std::string_view head) {
  // The header may follow a little junk; readers accept it within 1 KiB.
  return head.substr(0, 1024).find("%PDF-") != std::string_view::npos;
}

bool LooksLikeHtml(std::string_view text) {
  const std::string head = AsciiLower(text.substr(0, 2048));
  size_t start = head.find_first_not_of(" \t\r\n");
  if (start == std::string::npos) return false;
  std::string_view h(head);
  h.remove_prefix(start);
  return h.starts_with("<!doctype html") || h.starts_with("<html") ||
         (h.starts_with("<") && (head.find("<body") != std::string::npos || head.find("<head") != std::string::npos));
}

std::string Utf16ToUtf8(std::string_view bytes, bool little_endian, uint64_t* replaced) {
  std::string out;
  out.reserve(bytes.size());
  auto unit = [&](size_t i) -> uint32_t {
    auto b0 = static_cast<unsigned char>(bytes[i]);
    auto b1 = static_cast<unsigned char>(bytes[i + 1]);
    return little_endian ? (b0 | (b1 << 8)) : ((b0 << 8) | b1);
  };
  size_t i = 0;
  for (; i + 1 < bytes.size(); i += 2) {
    uint32_t u = unit(i);
    if (u >= 0xD800 && u <= 0xDBFF && i + 3 < bytes.size()) {
      uint32_t low = unit(i + 2);
      if (low >= 0xDC00 && low <= 0xDFFF) {
        AppendCodePoint(0x10000 + ((u - 0xD800) << 10) + (low - 0xDC00), &out);
        i += 2;
        continue;
      }
    }
    if (u >= 0xD800 && u <= 0xDFFF) {
      AppendCodePoint(0xFFFD, &out);
      ++*replaced;
      continue;
    }
    AppendCodePoint(u, &out);
  }
  if (i < bytes.size()) {  // odd trailing byte
    AppendCodePoint(0xFFFD, &out);
    ++*replaced;
  }
  return out;
}

std::string NormalizeLineEnds(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  // Copies the runs between carriage returns whole: most text has none.
  for (size_t i = 0; i < text.size();) {
    size_t cr = text.find('\r', i);
    if (cr == std::string_view::npos) cr = text.size();
    out.append(text.substr(i, cr - i));
    if (cr == text.size()) break;
    out.push_back('\n');
    i = cr + (cr + 1 < text.size() && text[cr + 1] == '\n' ? 2 : 1);
  }
  return out;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

bool IsBlank(std::string_view s) { return Trim(s).empty(); }

int TextHeadingLevel(std::string_view line, bool blank_before, bool blank_after, bool layout_text) {
  std::string_view t = Trim(line);
  if (t.size() < 3 || t.size() > (layout_text ? 60 : 80)) return 0;
  if (!layout_text && (!blank_before || !blank_after)) return 0;
  char last = t.back();
  if (last == '.' || last == ',' || last == ';') return 0;
  static const std::regex kNumbered(R"(^(\d+(\.\d+){0,5})\.?\s+\S.*$)");
  static const std::regex kKeyword(R"(^(CHAPTER|Chapter|SECTION|Section|PART|Part|APPENDIX|Appendix)\s+\S+.*$)");
  std::match_results<std::string_view::const_iterator> m;
  if (std::regex_match(t.begin(), t.end(), m, kNumbered)) {
    std::string number = m[1].str();
    return 1 + static_cast<int>(std::count(number.begin(), number.end(), '.'));
  }
  if (std::regex_match(t.begin(), t.end(), kKeyword)) return 1;
  int letters = 0;
  for (char c : t) {
    if (std::islower(static_cast<unsigned char>(c))) return 0;
    if (std::isupper(static_cast<unsigned char>(c))) ++letters;
  }
  return letters >= 3 ? 1 : 0;
}

}  // namespace

Result<std::string> DetectFormat(const std::string& path, std::string_view head) {
  if (IsPdf(head)) return std::string(kFormatPdf);
  bool utf16 = head.starts_with("\xFF\xFE") || head.starts_with("\xFE\xFF");
  if (!utf16) {
    if (const char* kind = BinaryKind(head)) return InvalidArgument(path + ": binary content (" + kind + ")");
    if (head.find('\0') != std::string_view::npos) {
      return InvalidArgument(path + ": binary content (NUL bytes), not a text document");
    }
  }
  uint64_t replaced = 0;
  std::string text = DecodeText(head, &replaced);
  if (LooksLikeHtml(text)) return std::string(kFormatHtml);
  if (HasExtension(path, {".md", ".markdown", ".mdown", ".mkd"})) return std::string(kFormatMarkdown);
  if (HasExtension(path, {".html", ".htm", ".xhtml"})) return std::string(kFormatHtml);
  return std::string(kFormatText);
}

std::string DecodeText(std::string_view bytes, uint64_t* replaced) {
  uint64_t bad = 0;
  std::string utf8;
  if (bytes.starts_with("\xFF\xFE")) {
    utf8 = Utf16ToUtf8(bytes.substr(2), true, &bad);
  } else if (bytes.starts_with("\xFE\xFF")) {
    utf8 = Utf16ToUtf8(bytes.substr(2), false, &bad);
  } else {
    if (bytes.starts_with("\xEF\xBB\xBF")) bytes.remove_prefix(3);
    size_t count = 0;
    utf8 = SanitizeUtf8(bytes, &count);
    bad = count;
  }
  *replaced = bad;
  return NormalizeLineEnds(utf8);
}

std::vector<uint64_t> FormFeedPageStarts(std::string_view text) {
  std::vector<uint64_t> starts = {0};
  for (size_t i = text.find('\f'); i != std::string_view::npos; i = text.find('\f', i + 1)) starts.push_back(i + 1);
  return starts;
}

uint32_t PageAt(const std::vector<uint64_t>& page_starts, uint32_t first_page, uint64_t offset) {
  auto it = std::upper_bound(page_starts.begin(), page_starts.end(), offset);
  size_t index = it == page_starts.begin() ? 0 : static_cast<size_t>(it - page_starts.begin()) - 1;
  return first_page + static_cast<uint32_t>(index);
}

std::vector<Section> TextHeadings(std::string_view text, size_t max_sections, bool layout_text) {
  std::vector<Section> sections;
  std::vector<std::pair<size_t, std::string_view>> lines;
  for (size_t start = 0; start < text.size();) {
    size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    lines.emplace_back(start, text.substr(start, end - start));
    start = end + 1;
  }
  for (size_t i = 0; i < lines.size() && sections.size() < max_sections; ++i) {
    std::string_view body = lines[i].second;
    size_t skip = 0;
    while (skip < body.size() && body[skip] == '\f') ++skip;
    body.remove_prefix(skip);
    bool before = i == 0 || IsBlank(lines[i - 1].second);
    bool after = i + 1 >= lines.size() || IsBlank(lines[i + 1].second);
    int level = TextHeadingLevel(body, before, after, layout_text);
    if (level == 0) continue;
    Section s;
    s.set_title(std::string(Trim(body)));
    s.set_level(static_cast<uint32_t>(std::min(level, 6)));
    s.set_offset(lines[i].first + skip);
    sections.push_back(std::move(s));
  }
  return sections;
}

void AddHeading(uint64_t start, int level, size_t max_sections, ExtractedDocument* doc) {
  std::string title = doc->text.substr(start);
  while (!title.empty() && (title.back() == ' ' || title.back() == '\n')) title.pop_back();
  if (title.empty() || doc->sections.size() >= max_sections) return;
  Section s;
  s.set_title(std::move(title));
  s.set_level(static_cast<uint32_t>(level));
  s.set_offset(start);
  doc->sections.push_back(std::move(s));
}

Result<ExtractedDocument> ExtractDocument(const DocumentRef& doc, const ExtractLimits& limits, uint32_t pages_first,
                                          uint32_t pages_last, std::string* checksum) {
  // The format is told from the first 8 KiB. A little more is read: a
  // document that ends within it (most are small) is then read once, not
  // twice.
  constexpr uint64_t kHeadBytes = 8192;
  constexpr uint64_t kWholeWithin = 64 << 10;
  INGEST_ASSIGN_OR_RETURN(std::string first, ReadDocumentBytes(doc, 0, kWholeWithin));
  if (first.empty()) return InvalidArgument(doc.path() + ": empty document");
  INGEST_ASSIGN_OR_RETURN(std::string format, DetectFormat(doc.path(), std::string_view(first).substr(0, kHeadBytes)));
  if (format == kFormatPdf) {
    INGEST_ASSIGN_OR_RETURN(std::filesystem::path real, ResolveDocumentPath(doc));
    return ExtractPdf(real.string(), limits, pages_first, pages_last);
  }
  std::string bytes;
  if (first.size() < kWholeWithin && first.size() <= limits.max_text_bytes) {
    bytes = std::move(first);
  } else {
    INGEST_ASSIGN_OR_RETURN(bytes, ReadDocumentBytes(doc, 0, UINT64_MAX, limits.max_text_bytes));
  }
  if (checksum != nullptr) *checksum = Sha256Hex(bytes);
  ExtractedDocument out;
  uint64_t replaced = 0;
  std::string text = DecodeText(bytes, &replaced);
  bytes.clear();
  bytes.shrink_to_fit();
  if (Trim(text).empty()) return InvalidArgument(doc.path() + ": no text (only whitespace)");
  if (format == kFormatMarkdown) {
    out = ExtractMarkdown(text, limits.max_sections);
  } else if (format == kFormatHtml) {
    out = ExtractHtml(text, limits.max_sections);
  } else {
    out.text = std::move(text);
    out.sections = TextHeadings(out.text, limits.max_sections);
  }
  out.format = format;
  out.replaced_bytes = replaced;
  if (out.format != kFormatHtml) out.page_starts = FormFeedPageStarts(out.text);
  out.page_count = static_cast<uint32_t>(out.page_starts.size());
  for (Section& s : out.sections) s.set_page_start(PageAt(out.page_starts, 1, s.offset()));
  return out;
}

}  // namespace ingest
