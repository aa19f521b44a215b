// Pass A: the table of contents (headings with levels and pages) and the
// dictionary (defined terms and glossary entries) of one document.

#include <algorithm>
#include <cctype>
#include <regex>
#include <set>

#include "common/sha256.h"
#include "common/utf8.h"
#include "worker/passes/passes.h"

namespace ingest {
namespace {

struct Line {
  size_t offset;
  std::string_view text;  // without the line break
};

std::vector<Line> SplitLines(std::string_view text) {
  std::vector<Line> lines;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(start, end - start);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    lines.push_back({start, line});
    start = end + 1;
  }
  return lines;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

bool IsBlank(std::string_view s) { return Trim(s).empty(); }

// Leading spaces (up to 3 allowed before Markdown block markers).
size_t Indent(std::string_view s) {
  size_t n = 0;
  while (n < s.size() && s[n] == ' ') ++n;
  return n;
}

bool IsFence(std::string_view line) {
  std::string_view t = line.substr(std::min(Indent(line), line.size()));
  return Indent(line) <= 3 && (t.starts_with("```") || t.starts_with("~~~"));
}

// "## Title ##" -> level 2, "Title"; 0 if not an ATX heading.
int AtxHeading(std::string_view line, std::string_view* title) {
  if (Indent(line) > 3) return 0;
  std::string_view t = line.substr(Indent(line));
  int level = 0;
  while (level < static_cast<int>(t.size()) && t[level] == '#') ++level;
  if (level < 1 || level > 6) return 0;
  if (static_cast<size_t>(level) < t.size() && t[level] != ' ' && t[level] != '\t') return 0;
  std::string_view rest = Trim(t.substr(level));
  while (!rest.empty() && rest.back() == '#') rest.remove_suffix(1);
  *title = Trim(rest);
  return title->empty() ? 0 : level;
}

int SetextUnderline(std::string_view line) {
  if (Indent(line) > 3) return 0;
  std::string_view t = Trim(line);
  if (t.empty()) return 0;
  if (std::all_of(t.begin(), t.end(), [](char c) { return c == '='; })) return 1;
  if (std::all_of(t.begin(), t.end(), [](char c) { return c == '-'; })) return 2;
  return 0;
}

// Strips Markdown emphasis and code marks from a heading or term.
std::string StripInline(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (c != '*' && c != '`' && c != '_') out.push_back(c);
  }
  return std::string(Trim(out));
}

// Plain-text heading heuristics: a short line between blank lines that is
// numbered ("2.1 Scope"), introduced by a keyword ("CHAPTER 3"), or in capitals.
int TextHeading(const std::vector<Line>& lines, size_t i) {
  std::string_view t = Trim(lines[i].text);
  if (t.size() < 3 || t.size() > 80) return 0;
  bool blank_before = i == 0 || IsBlank(lines[i - 1].text);
  bool blank_after = i + 1 >= lines.size() || IsBlank(lines[i + 1].text);
  if (!blank_before || !blank_after) return 0;
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

bool IsGlossaryTitle(std::string_view title) {
  std::string lower(title);
  std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
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
  explicit DictionaryBuilder(size_t max_terms) : max_terms_(max_terms) {}

  void Add(std::string_view term, std::string_view definition, TocRecord* out) {
    std::string clean = StripInline(term);
    while (!clean.empty() && (clean.back() == ':' || clean.back() == '-')) clean.pop_back();
    clean = std::string(Trim(clean));
    if (!IsTermLike(clean) || out->terms_size() >= static_cast<int>(max_terms_)) return;
    std::string key = clean;
    std::transform(key.begin(), key.end(), key.begin(), [](unsigned char c) { return std::tolower(c); });
    if (!seen_.insert(key).second) return;
    DictionaryTerm* t = out->add_terms();
    t->set_term(SanitizeUtf8(clean));
    t->set_definition(SanitizeUtf8(Trim(definition.substr(0, 500))));
  }

  // Glossary entry forms: "- **Term**: definition", "Term: definition",
  // "Term — definition", "Term - definition".
  void FromGlossaryLine(std::string_view line, TocRecord* out) {
    std::string_view t = Trim(line);
    if (t.starts_with("- ") || t.starts_with("* ") || t.starts_with("+ ")) t = Trim(t.substr(2));
    if (t.starts_with("|")) return;  // tables are read elsewhere
    for (std::string_view sep : {std::string_view(":"), std::string_view(" \xE2\x80\x94 "), std::string_view(" - ")}) {
      size_t at = t.find(sep);
      if (at != std::string_view::npos && at > 0) {
        Add(t.substr(0, at), t.substr(at + sep.size()), out);
        return;
      }
    }
  }

  // '"Term" means ...' on one line. Lines without the verb are skipped
  // cheaply so that the regex never runs over a whole large document.
  void FromMeansClauses(std::string_view text, TocRecord* out) {
    if (text.find("mean") == std::string_view::npos && text.find("refers to") == std::string_view::npos) return;
    static const std::regex kMeans(R"((?:"|\xE2\x80\x9C)([^"\n\xE2]{1,60})(?:"|\xE2\x80\x9D)\s+(?:means|shall mean|refers to)\s+([^\n]{0,200}))");
    for (std::regex_iterator<std::string_view::const_iterator> it(text.begin(), text.end(), kMeans), end;
         it != end; ++it) {
      Add((*it)[1].str(), (*it)[2].str(), out);
    }
  }

 private:
  size_t max_terms_;
  std::set<std::string> seen_;
};

}  // namespace

TocRecord BuildToc(const DocumentRef& doc, std::string_view text, const std::string& format,
                   const TocOptions& options) {
  TocRecord toc;
  toc.set_source_id(doc.source_id());
  toc.set_source(doc.source());
  toc.set_path(doc.path());
  toc.set_format(format);
  toc.set_bytes(text.size());
  toc.set_checksum(Sha256Hex(text));

  std::vector<Line> lines = SplitLines(text);
  DictionaryBuilder dictionary(options.max_terms);
  uint32_t page = 1;
  bool in_fence = false;
  bool in_glossary = false;
  int glossary_level = 0;
  for (size_t i = 0; i < lines.size(); ++i) {
    const Line& line = lines[i];
    page += static_cast<uint32_t>(std::count(line.text.begin(), line.text.end(), '\f'));
    std::string_view body = line.text;
    while (!body.empty() && body.front() == '\f') body.remove_prefix(1);

    int level = 0;
    std::string title;
    size_t heading_offset = line.offset;
    if (format == "markdown") {
      if (IsFence(body)) {
        in_fence = !in_fence;
        continue;
      }
      if (in_fence) continue;
      std::string_view atx;
      if ((level = AtxHeading(body, &atx)) > 0) {
        title = StripInline(atx);
      } else if (i + 1 < lines.size() && !IsBlank(body) && Indent(body) <= 3 &&
                 (level = SetextUnderline(lines[i + 1].text)) > 0) {
        title = StripInline(body);
        ++i;  // the underline belongs to the heading
      }
    } else {
      level = TextHeading(lines, i);
      if (level > 0) title = std::string(Trim(body));
    }

    if (level > 0 && !title.empty()) {
      if (toc.sections_size() < static_cast<int>(options.max_sections)) {
        Section* s = toc.add_sections();
        s->set_title(SanitizeUtf8(title));
        s->set_level(static_cast<uint32_t>(std::min(level, 6)));
        s->set_page_start(page);
        s->set_offset(heading_offset);
      }
      if (in_glossary && level <= glossary_level) in_glossary = false;
      if (IsGlossaryTitle(title)) {
        in_glossary = true;
        glossary_level = level;
      }
      continue;
    }
    if (in_glossary && !IsBlank(body)) dictionary.FromGlossaryLine(body, &toc);
    if (!in_fence) dictionary.FromMeansClauses(body, &toc);
  }
  toc.set_pages(page);
  return toc;
}

}  // namespace ingest
