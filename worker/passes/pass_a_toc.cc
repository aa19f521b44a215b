// Pass A: the table of contents (headings or PDF outline, with levels and
// pages) and the dictionary (glossary entries and defined terms) of one
// document, from its extracted text.

#include <algorithm>
#include <cctype>
#include <regex>
#include <set>

#include "common/utf8.h"
#include "worker/passes/passes.h"

namespace ingest {
namespace {

// Lines longer than this are not searched for definitions: std::regex
// backtracks, and a 50 MB line must not stall a worker.
constexpr size_t kMaxDefinitionLine = 4096;

std::string_view Trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

bool IsGlossaryTitle(std::string_view title) {
  const std::string lower = AsciiLower(title);
  for (const char* word : {"glossary", "definitions", "defined terms", "terminology", "dictionary"}) {
    if (lower.find(word) != std::string::npos) return true;
  }
  return false;
}

bool IsTermLike(std::string_view term) {
  if (term.empty() || term.size() > 60) return false;
  int words = 1 + static_cast<int>(std::count(term.begin(), term.end(), ' '));
  return words <= 6;
}

class DictionaryBuilder {
 public:
  DictionaryBuilder(size_t max_terms, TocRecord* out) : max_terms_(max_terms), out_(out) {}

  void Add(std::string_view term, std::string_view definition) {
    std::string clean(Trim(term));
    clean.erase(std::remove(clean.begin(), clean.end(), '*'), clean.end());
    while (!clean.empty() && (clean.back() == ':' || clean.back() == '-' || clean.back() == ' ')) clean.pop_back();
    if (!IsTermLike(clean) || out_->terms_size() >= static_cast<int>(max_terms_)) return;
    if (!seen_.insert(AsciiLower(clean)).second) return;
    DictionaryTerm* t = out_->add_terms();
    t->set_term(clean);
    std::string_view def = Trim(definition);
    t->set_definition(std::string(def.substr(0, Utf8FloorBoundary(def, 500))));
  }

  // Glossary entry forms: "Term: definition", "Term — definition", "Term - definition".
  void FromGlossaryLine(std::string_view line) {
    std::string_view t = Trim(line);
    if (t.starts_with("- ") || t.starts_with("* ") || t.starts_with("+ ")) t = Trim(t.substr(2));
    if (t.find(" | ") != std::string_view::npos) {  // a table row: first cell is the term
      size_t bar = t.find(" | ");
      Add(t.substr(0, bar), t.substr(bar + 3));
      return;
    }
    for (std::string_view sep : {std::string_view(":"), std::string_view(" \xE2\x80\x94 "), std::string_view(" - ")}) {
      size_t at = t.find(sep);
      if (at != std::string_view::npos && at > 0) {
        Add(t.substr(0, at), t.substr(at + sep.size()));
        return;
      }
    }
  }

  // '"Term" means ...' anywhere.
  void FromMeansClauses(std::string_view line) {
    if (line.size() > kMaxDefinitionLine) return;
    if (line.find("mean") == std::string_view::npos && line.find("refers to") == std::string_view::npos) return;
    static const std::regex kMeans(
        R"((?:"|\xE2\x80\x9C)([^"\n\xE2]{1,60})(?:"|\xE2\x80\x9D)\s+(?:means|shall mean|refers to)\s+([^\n]{0,200}))");
    for (std::regex_iterator<std::string_view::const_iterator> it(line.begin(), line.end(), kMeans), end; it != end;
         ++it) {
      Add((*it)[1].str(), (*it)[2].str());
    }
  }

 private:
  size_t max_terms_;
  TocRecord* out_;
  std::set<std::string> seen_;
};

}  // namespace

TocRecord BuildToc(const DocumentRef& doc, const ExtractedDocument& extracted, uint64_t bytes,
                   const std::string& checksum, const TocOptions& options) {
  TocRecord toc;
  toc.set_source_id(doc.source_id());
  toc.set_source(doc.source());
  toc.set_path(doc.path());
  toc.set_format(extracted.format);
  toc.set_bytes(bytes);
  toc.set_checksum(checksum);
  toc.set_pages(extracted.page_count);
  toc.set_text_bytes(extracted.text.size());
  toc.set_replaced_bytes(extracted.replaced_bytes);
  toc.set_title(extracted.title);
  for (uint64_t offset : extracted.page_starts) toc.add_page_offsets(offset);
  for (const Section& s : extracted.sections) *toc.add_sections() = s;

  // Walk the lines with the section stack, so lines under a glossary heading
  // (or below one) are read as entries.
  DictionaryBuilder dictionary(options.max_terms, &toc);
  const std::string& text = extracted.text;
  std::vector<const Section*> stack;
  size_t next = 0;
  for (size_t start = 0; start < text.size();) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    while (next < extracted.sections.size() && extracted.sections[next].offset() <= start) {
      const Section& s = extracted.sections[next++];
      while (!stack.empty() && stack.back()->level() >= s.level()) stack.pop_back();
      stack.push_back(&s);
    }
    std::string_view line(text.data() + start, end - start);
    bool is_heading = !stack.empty() && stack.back()->offset() == start;
    bool in_glossary =
        std::any_of(stack.begin(), stack.end(), [](const Section* s) { return IsGlossaryTitle(s->title()); });
    if (in_glossary && !is_heading && !Trim(line).empty() && line.size() <= kMaxDefinitionLine) {
      dictionary.FromGlossaryLine(line);
    }
    dictionary.FromMeansClauses(line);
    start = end + 1;
  }
  return toc;
}

}  // namespace ingest
