#pragma once

// Turns a document of any supported format into one model the passes share:
// UTF-8 text with LF line ends, sections and page starts as offsets into that
// text. Offsets are stable for a given document, so pass A's sections and
// pass B's ranges mean the same thing when pass C extracts again.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "proto/contracts.pb.h"
#include "proto/fleet.pb.h"
#include "proto/pdf_extract.pb.h"
#include "worker/document.h"

namespace ingest {

inline constexpr char kFormatText[] = "text";
inline constexpr char kFormatMarkdown[] = "markdown";
inline constexpr char kFormatHtml[] = "html";
inline constexpr char kFormatPdf[] = "pdf";

struct ExtractedDocument {
  std::string format;
  std::string title;  // HTML <title>, PDF title; may be empty
  std::string text;
  std::vector<Section> sections;  // ordered by offset; page_start filled
  // Offset in `text` where each page starts; page_starts[i] is page first_page + i.
  std::vector<uint64_t> page_starts = {0};
  uint32_t first_page = 1;
  uint32_t page_count = 1;      // of the whole document
  uint64_t replaced_bytes = 0;  // invalid UTF-8 bytes replaced by U+FFFD
  // Offsets where a chunk must end and a new one begin besides section
  // starts: both ends of each code block, so a code block stays whole.
  std::vector<uint64_t> block_breaks;
};

// Limits for untrusted input. The PDF helper runs under these as a process.
struct ExtractLimits {
  uint64_t max_text_bytes = kMaxReadBytes;
  uint32_t pdf_cpu_seconds = 60;
  uint32_t pdf_wall_seconds = 120;
  uint64_t pdf_memory_bytes = uint64_t{1} << 30;
  size_t max_sections = 20000;
  // ingest-pdf-extract; empty means the one next to the running binary.
  std::string pdf_helper;
};

// Detects the format from content (magic bytes, markup), with the file
// extension as a hint only. InvalidArgument (permanent) for binary content.
Result<std::string> DetectFormat(const std::string& path, std::string_view head);

// Decodes raw bytes to UTF-8 text: UTF-8 and UTF-16 byte order marks, UTF-16
// without BOM is not guessed; CRLF and lone CR become LF; invalid UTF-8 is
// replaced by U+FFFD and counted in `replaced`.
std::string DecodeText(std::string_view bytes, uint64_t* replaced);

// Pages of a text: a form feed starts a new page.
std::vector<uint64_t> FormFeedPageStarts(std::string_view text);

// Sections of plain text by heuristics: short lines between blank lines that
// are numbered ("2.1 Scope"), introduced by a keyword ("CHAPTER 3") or in
// capitals. `layout_text` (PDF text, where blank lines are rare) drops the
// blank-line condition and allows only shorter lines.
std::vector<Section> TextHeadings(std::string_view text, size_t max_sections, bool layout_text = false);

// Page (first_page-based) of `offset` given page start offsets.
uint32_t PageAt(const std::vector<uint64_t>& page_starts, uint32_t first_page, uint64_t offset);

// Records the heading whose text runs from `start` to the end of doc->text
// as a section, unless it is empty or the document has `max_sections`.
void AddHeading(uint64_t start, int level, size_t max_sections, ExtractedDocument* doc);

// Reads and extracts a whole document. `pages_first`/`pages_last` (1-based,
// 0 = all) restrict a PDF to a page range; other formats ignore them. With
// `checksum`, the sha256 of the bytes the text came from, so that pass A
// records the checksum of what it extracted even if the file changes
// meanwhile (a checksum read afterwards would make the next run take the
// new content for what was extracted), and reads the file once; left empty
// for a PDF, which its helper reads.
Result<ExtractedDocument> ExtractDocument(const DocumentRef& doc, const ExtractLimits& limits, uint32_t pages_first = 0,
                                          uint32_t pages_last = 0, std::string* checksum = nullptr);

// Per-format extractors over already decoded text (PDF reads the file).
ExtractedDocument ExtractMarkdown(std::string_view text, size_t max_sections);
ExtractedDocument ExtractHtml(std::string_view text, size_t max_sections);
Result<ExtractedDocument> ExtractPdf(const std::string& path, const ExtractLimits& limits, uint32_t first,
                                     uint32_t last);

// The number of pages of a PDF, without its text.
Result<uint32_t> PdfPageCount(const std::string& path, const ExtractLimits& limits);

// What the worker makes of the PDF helper's stdout: the helper parses files
// nobody checked, so its answer is read as untrusted too (scripts/fuzz.sh
// feeds these two anything). `name` goes into errors.
Result<PdfExtract> ParsePdfAnswer(std::string_view answer, const std::string& name);
Result<ExtractedDocument> DocumentFromPdfAnswer(const PdfExtract& extract, const ExtractLimits& limits,
                                                const std::string& path);

}  // namespace ingest
