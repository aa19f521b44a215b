// Markdown through md4c (CommonMark + GitHub tables): headings become
// sections, code blocks are kept verbatim as their own blocks, table rows
// become "cell | cell" lines, links keep their text, raw HTML is dropped.

#include <md4c.h>

#include <cstdlib>
#include <string>

#include "common/utf8.h"
#include "worker/formats/formats.h"

namespace ingest {
namespace {

// Decodes one HTML entity as md4c reports it ("&amp;", "&#39;", "&#x2014;").
std::string DecodeEntity(std::string_view entity) {
  static const std::pair<std::string_view, std::string_view> kNamed[] = {{"&amp;", "&"},
                                                                         {"&lt;", "<"},
                                                                         {"&gt;", ">"},
                                                                         {"&quot;", "\""},
                                                                         {"&apos;", "'"},
                                                                         {"&nbsp;", " "},
                                                                         {"&mdash;", "\xE2\x80\x94"},
                                                                         {"&ndash;", "\xE2\x80\x93"},
                                                                         {"&hellip;", "\xE2\x80\xA6"},
                                                                         {"&copy;", "\xC2\xA9"},
                                                                         {"&eacute;", "\xC3\xA9"}};
  for (const auto& [name, value] : kNamed) {
    if (entity == name) return std::string(value);
  }
  if (entity.size() > 3 && entity[1] == '#') {
    bool hex = entity[2] == 'x' || entity[2] == 'X';
    std::string digits(entity.substr(hex ? 3 : 2, entity.size() - (hex ? 4 : 3)));
    unsigned long cp = std::strtoul(digits.c_str(), nullptr, hex ? 16 : 10);
    std::string out;
    AppendCodePoint(cp == 0 || cp > 0x10FFFF ? 0xFFFD : static_cast<uint32_t>(cp), &out);
    return out;
  }
  return std::string(entity);
}

struct Renderer {
  ExtractedDocument* out;
  size_t max_sections;
  int heading_level = 0;
  size_t heading_start = 0;
  int cells_in_row = 0;

  std::string& text() { return out->text; }

  // Starts a block on a fresh line, with a blank line between blocks.
  void BeginBlock() {
    std::string& t = text();
    if (t.empty()) return;
    if (t.back() != '\n') t.push_back('\n');
    if (t.size() >= 2 && t[t.size() - 2] != '\n') t.push_back('\n');
  }

  int EnterBlock(MD_BLOCKTYPE type, void* detail) {
    switch (type) {
      case MD_BLOCK_H:
        BeginBlock();
        heading_level = static_cast<int>(static_cast<MD_BLOCK_H_DETAIL*>(detail)->level);
        heading_start = text().size();
        break;
      case MD_BLOCK_CODE:
        BeginBlock();
        out->block_breaks.push_back(text().size());
        break;
      case MD_BLOCK_P:
      case MD_BLOCK_TABLE:
      case MD_BLOCK_QUOTE:
      case MD_BLOCK_HR:
        BeginBlock();
        break;
      case MD_BLOCK_LI:
      case MD_BLOCK_TR:
        if (!text().empty() && text().back() != '\n') text().push_back('\n');
        cells_in_row = 0;
        break;
      case MD_BLOCK_TH:
      case MD_BLOCK_TD:
        if (cells_in_row++ > 0) text() += " | ";
        break;
      default:
        break;
    }
    return 0;
  }

  int LeaveBlock(MD_BLOCKTYPE type) {
    if (type == MD_BLOCK_H && heading_level > 0) {
      AddHeading(heading_start, heading_level, max_sections, out);
      heading_level = 0;
      text().push_back('\n');
    } else if (type == MD_BLOCK_CODE) {
      if (!text().empty() && text().back() != '\n') text().push_back('\n');
      out->block_breaks.push_back(text().size());
    } else if (type == MD_BLOCK_P || type == MD_BLOCK_LI) {
      if (!text().empty() && text().back() != '\n') text().push_back('\n');
    }
    return 0;
  }

  int Text(MD_TEXTTYPE type, std::string_view chunk) {
    switch (type) {
      case MD_TEXT_NULLCHAR:
        text() += "\xEF\xBF\xBD";
        break;
      case MD_TEXT_BR:
      case MD_TEXT_SOFTBR:
        text().push_back(heading_level > 0 ? ' ' : '\n');
        break;
      case MD_TEXT_ENTITY:
        text() += DecodeEntity(chunk);
        break;
      case MD_TEXT_HTML:
        break;  // raw HTML tags carry no reading text
      default:
        text().append(chunk);
        break;
    }
    return 0;
  }
};

}  // namespace

ExtractedDocument ExtractMarkdown(std::string_view source, size_t max_sections) {
  ExtractedDocument out;
  out.text.reserve(source.size());
  Renderer renderer{&out, max_sections};
  MD_PARSER parser{};
  parser.abi_version = 0;
  parser.flags = MD_DIALECT_GITHUB;
  parser.enter_block = [](MD_BLOCKTYPE t, void* d, void* u) { return static_cast<Renderer*>(u)->EnterBlock(t, d); };
  parser.leave_block = [](MD_BLOCKTYPE t, void*, void* u) { return static_cast<Renderer*>(u)->LeaveBlock(t); };
  parser.enter_span = [](MD_SPANTYPE, void*, void*) { return 0; };
  parser.leave_span = [](MD_SPANTYPE, void*, void*) { return 0; };
  parser.text = [](MD_TEXTTYPE t, const MD_CHAR* text, MD_SIZE size, void* u) {
    return static_cast<Renderer*>(u)->Text(t, std::string_view(text, size));
  };
  md_parse(source.data(), static_cast<MD_SIZE>(source.size()), &parser, &renderer);
  // md4c passes input bytes through; keep the output valid UTF-8 regardless.
  if (!IsValidUtf8(out.text)) out.text = SanitizeUtf8(out.text);
  return out;
}

}  // namespace ingest
