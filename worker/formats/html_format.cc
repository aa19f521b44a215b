// HTML through gumbo (an HTML5 parser): <title>, h1-h6 as sections, script,
// style and other non-reading content dropped, entities decoded by the
// parser, block elements on their own lines, table rows as "cell | cell".

#include <gumbo.h>

#include <utility>
#include <vector>

#include "common/utf8.h"
#include "worker/formats/formats.h"

namespace ingest {
namespace {

bool IsSkipped(GumboTag tag) {
  switch (tag) {
    case GUMBO_TAG_SCRIPT:
    case GUMBO_TAG_STYLE:
    case GUMBO_TAG_NOSCRIPT:
    case GUMBO_TAG_TEMPLATE:
    case GUMBO_TAG_HEAD:
    case GUMBO_TAG_SVG:
    case GUMBO_TAG_IFRAME:
    case GUMBO_TAG_OBJECT:
    case GUMBO_TAG_CANVAS:
    case GUMBO_TAG_NAV:  // site navigation repeats on every page; it is not the document
      return true;
    default:
      return false;
  }
}

bool IsBlock(GumboTag tag) {
  switch (tag) {
    case GUMBO_TAG_P:
    case GUMBO_TAG_DIV:
    case GUMBO_TAG_LI:
    case GUMBO_TAG_TR:
    case GUMBO_TAG_BR:
    case GUMBO_TAG_SECTION:
    case GUMBO_TAG_ARTICLE:
    case GUMBO_TAG_HEADER:
    case GUMBO_TAG_FOOTER:
    case GUMBO_TAG_TABLE:
    case GUMBO_TAG_UL:
    case GUMBO_TAG_OL:
    case GUMBO_TAG_PRE:
    case GUMBO_TAG_BLOCKQUOTE:
    case GUMBO_TAG_DT:
    case GUMBO_TAG_DD:
    case GUMBO_TAG_HR:
    case GUMBO_TAG_ASIDE:
    case GUMBO_TAG_MAIN:
    case GUMBO_TAG_FIGURE:
    case GUMBO_TAG_FIGCAPTION:
    case GUMBO_TAG_DL:
    case GUMBO_TAG_CAPTION:
    case GUMBO_TAG_ADDRESS:
      return true;
    default:
      return false;
  }
}

int HeadingLevel(GumboTag tag) {
  switch (tag) {
    case GUMBO_TAG_H1:
      return 1;
    case GUMBO_TAG_H2:
      return 2;
    case GUMBO_TAG_H3:
      return 3;
    case GUMBO_TAG_H4:
      return 4;
    case GUMBO_TAG_H5:
      return 5;
    case GUMBO_TAG_H6:
      return 6;
    default:
      return 0;
  }
}

class Walker {
 public:
  Walker(ExtractedDocument* out, size_t max_sections) : out_(out), max_sections_(max_sections) {}

  // Depth-first with an explicit stack: hostile nesting cannot exhaust the
  // thread's stack here.
  void Walk(const GumboNode* root) {
    std::vector<std::pair<const GumboNode*, bool>> stack = {{root, true}};
    while (!stack.empty()) {
      auto [node, entering] = stack.back();
      stack.pop_back();
      if (node->type == GUMBO_NODE_TEXT || node->type == GUMBO_NODE_WHITESPACE || node->type == GUMBO_NODE_CDATA) {
        AppendText(node->v.text.text);
        continue;
      }
      if (node->type != GUMBO_NODE_ELEMENT && node->type != GUMBO_NODE_DOCUMENT) continue;
      GumboTag tag = node->type == GUMBO_NODE_ELEMENT ? node->v.element.tag : GUMBO_TAG_HTML;
      if (entering) {
        if (tag == GUMBO_TAG_TITLE) {
          CaptureTitle(node);
          continue;
        }
        if (IsSkipped(tag)) {
          if (tag == GUMBO_TAG_HEAD) FindTitle(node);
          continue;
        }
        Open(tag);
        stack.emplace_back(node, false);
        const GumboVector& children =
            node->type == GUMBO_NODE_DOCUMENT ? node->v.document.children : node->v.element.children;
        for (unsigned i = children.length; i > 0; --i) {
          stack.emplace_back(static_cast<const GumboNode*>(children.data[i - 1]), true);
        }
      } else {
        Close(tag);
      }
    }
  }

 private:
  std::string& text() { return out_->text; }

  void NewLine() {
    if (!text().empty() && text().back() != '\n') text().push_back('\n');
    pending_space_ = false;
  }

  void Open(GumboTag tag) {
    if (tag == GUMBO_TAG_PRE) ++pre_depth_;
    if (tag == GUMBO_TAG_TR) cells_ = 0;
    if (tag == GUMBO_TAG_TD || tag == GUMBO_TAG_TH) {
      if (cells_++ > 0) text() += " | ";
      pending_space_ = false;
    }
    if (int level = HeadingLevel(tag)) {
      NewLine();
      if (!text().empty()) text().push_back('\n');
      heading_level_ = level;
      heading_start_ = text().size();
    } else if (IsBlock(tag)) {
      NewLine();
    }
  }

  void Close(GumboTag tag) {
    if (tag == GUMBO_TAG_PRE) --pre_depth_;
    if (HeadingLevel(tag) > 0 && heading_level_ > 0) {
      AddHeading(heading_start_, heading_level_, max_sections_, out_);
      heading_level_ = 0;
      NewLine();
      text().push_back('\n');
    } else if (IsBlock(tag)) {
      NewLine();
    }
  }

  // Collapses runs of whitespace to one space outside <pre>.
  void AppendText(std::string_view s) {
    if (pre_depth_ > 0) {
      text().append(s);
      return;
    }
    for (char c : s) {
      if (c == ' ' || c == '\n' || c == '\t' || c == '\r' || c == '\f') {
        pending_space_ = !text().empty() && text().back() != '\n';
        continue;
      }
      if (pending_space_) text().push_back(' ');
      pending_space_ = false;
      text().push_back(c);
    }
  }

  void CaptureTitle(const GumboNode* node) {
    if (!out_->title.empty()) return;
    const GumboVector& children = node->v.element.children;
    for (unsigned i = 0; i < children.length; ++i) {
      auto* child = static_cast<const GumboNode*>(children.data[i]);
      if (child->type == GUMBO_NODE_TEXT) out_->title += child->v.text.text;
    }
  }

  void FindTitle(const GumboNode* head) {
    const GumboVector& children = head->v.element.children;
    for (unsigned i = 0; i < children.length; ++i) {
      auto* child = static_cast<const GumboNode*>(children.data[i]);
      if (child->type == GUMBO_NODE_ELEMENT && child->v.element.tag == GUMBO_TAG_TITLE) CaptureTitle(child);
    }
  }

  ExtractedDocument* out_;
  size_t max_sections_;
  int pre_depth_ = 0;
  int cells_ = 0;
  int heading_level_ = 0;
  size_t heading_start_ = 0;
  bool pending_space_ = false;
};

}  // namespace

ExtractedDocument ExtractHtml(std::string_view source, size_t max_sections) {
  ExtractedDocument out;
  GumboOutput* parsed = gumbo_parse_with_options(&kGumboDefaultOptions, source.data(), source.size());
  Walker(&out, max_sections).Walk(parsed->document);
  gumbo_destroy_output(&kGumboDefaultOptions, parsed);
  while (!out.text.empty() && out.text.back() == '\n') out.text.pop_back();
  out.text.push_back('\n');
  if (!IsValidUtf8(out.text)) out.text = SanitizeUtf8(out.text);
  // Without headings the title names the only section.
  if (out.sections.empty() && !out.title.empty()) {
    Section s;
    s.set_title(out.title);
    s.set_level(1);
    out.sections.push_back(std::move(s));
  }
  return out;
}

}  // namespace ingest
