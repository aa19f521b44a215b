#include "coordinator/web/html.h"

#include <md4c.h>

#include <algorithm>

#include "common/utf8.h"

namespace ingest {
namespace {

void AppendEscapedValid(std::string_view text, std::string* out) {
  for (const char c : text) {
    switch (c) {
      case '&':
        *out += "&amp;";
        break;
      case '<':
        *out += "&lt;";
        break;
      case '>':
        *out += "&gt;";
        break;
      case '"':
        *out += "&quot;";
        break;
      case '\'':
        *out += "&#39;";
        break;
      default:
        out->push_back(c);
    }
  }
}

struct BlockTags {
  const char* open;
  const char* close;
};

// The elements a block of the report becomes (headings aside); none for
// what the report never has.
BlockTags TagsOf(MD_BLOCKTYPE type) {
  switch (type) {
    case MD_BLOCK_P:
      return {"<p>", "</p>\n"};
    case MD_BLOCK_UL:
      return {"<ul>\n", "</ul>\n"};
    case MD_BLOCK_OL:
      return {"<ol>\n", "</ol>\n"};
    case MD_BLOCK_LI:
      return {"<li>", "</li>\n"};
    case MD_BLOCK_CODE:
      return {"<pre><code>", "</code></pre>\n"};
    case MD_BLOCK_QUOTE:
      return {"<blockquote>\n", "</blockquote>\n"};
    case MD_BLOCK_HR:
      return {"<hr>\n", ""};
    case MD_BLOCK_TABLE:
      return {"<div class=\"scroll\"><table>\n", "</table></div>\n"};
    case MD_BLOCK_THEAD:
      return {"<thead>\n", "</thead>\n"};
    case MD_BLOCK_TBODY:
      return {"<tbody>\n", "</tbody>\n"};
    case MD_BLOCK_TR:
      return {"<tr>", "</tr>\n"};
    case MD_BLOCK_TH:
      return {"<th scope=\"col\">", "</th>"};
    case MD_BLOCK_TD:
      return {"<td>", "</td>"};
    default:
      return {"", ""};
  }
}

// md4c's callbacks, writing a fixed set of elements.
class MarkdownWriter {
 public:
  explicit MarkdownWriter(std::string* out) : out_(out) {}

  int EnterBlock(MD_BLOCKTYPE type, const void* detail) {
    if (type == MD_BLOCK_H) {
      // The page has its own h1 and h2: the report's levels start at h3.
      heading_ = std::min(static_cast<const MD_BLOCK_H_DETAIL*>(detail)->level + 2, 6u);
      *out_ += "<h" + std::to_string(heading_) + ">";
    } else {
      *out_ += TagsOf(type).open;
    }
    return 0;
  }

  int LeaveBlock(MD_BLOCKTYPE type) {
    if (type == MD_BLOCK_H) {
      *out_ += "</h" + std::to_string(heading_) + ">\n";
    } else {
      *out_ += TagsOf(type).close;
    }
    return 0;
  }

  int Span(MD_SPANTYPE type, bool enter) {
    const char* tag = nullptr;
    switch (type) {
      case MD_SPAN_EM:
        tag = "em";
        break;
      case MD_SPAN_STRONG:
        tag = "strong";
        break;
      case MD_SPAN_CODE:
        tag = "code";
        break;
      case MD_SPAN_DEL:
        tag = "del";
        break;
      default:
        return 0;  // links and images: their text only
    }
    *out_ += enter ? "<" : "</";
    *out_ += tag;
    *out_ += ">";
    return 0;
  }

  int Text(MD_TEXTTYPE type, std::string_view text) {
    switch (type) {
      case MD_TEXT_NULLCHAR:
        *out_ += "\xEF\xBF\xBD";
        break;
      case MD_TEXT_BR:
        *out_ += "<br>\n";
        break;
      case MD_TEXT_SOFTBR:
        *out_ += "\n";
        break;
      default:
        // Entities and (with MD_FLAG_NOHTML, never sent) raw HTML alike are
        // shown as written.
        AppendEscaped(text, out_);
        break;
    }
    return 0;
  }

 private:
  std::string* out_;
  unsigned heading_ = 3;
};

}  // namespace

void AppendEscaped(std::string_view text, std::string* out) {
  if (IsValidUtf8(text)) {
    AppendEscapedValid(text, out);
  } else {
    AppendEscapedValid(SanitizeUtf8(text), out);
  }
}

std::string Escaped(std::string_view text) {
  std::string out;
  out.reserve(text.size() + 16);
  AppendEscaped(text, &out);
  return out;
}

std::string MarkdownToHtml(std::string_view markdown) {
  std::string out;
  MarkdownWriter writer(&out);
  MD_PARSER parser{};
  parser.abi_version = 0;
  parser.flags = MD_FLAG_TABLES | MD_FLAG_STRIKETHROUGH | MD_FLAG_NOHTML;
  parser.enter_block = [](MD_BLOCKTYPE t, void* d, void* u) {
    return static_cast<MarkdownWriter*>(u)->EnterBlock(t, d);
  };
  parser.leave_block = [](MD_BLOCKTYPE t, void*, void* u) { return static_cast<MarkdownWriter*>(u)->LeaveBlock(t); };
  parser.enter_span = [](MD_SPANTYPE t, void*, void* u) { return static_cast<MarkdownWriter*>(u)->Span(t, true); };
  parser.leave_span = [](MD_SPANTYPE t, void*, void* u) { return static_cast<MarkdownWriter*>(u)->Span(t, false); };
  parser.text = [](MD_TEXTTYPE t, const MD_CHAR* text, MD_SIZE size, void* u) {
    return static_cast<MarkdownWriter*>(u)->Text(t, std::string_view(text, size));
  };
  md_parse(markdown.data(), static_cast<MD_SIZE>(markdown.size()), &parser, &writer);
  return out;
}

}  // namespace ingest
