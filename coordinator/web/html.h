#pragma once

#include <string>
#include <string_view>

namespace ingest {

// Appends `text` as HTML text or a quoted attribute's value: & < > " ' as
// character references, and bytes that are not UTF-8 as U+FFFD, so a file
// name from a document tree always shows as the text it is.
void AppendEscaped(std::string_view text, std::string* out);
std::string Escaped(std::string_view text);

// The failure report's Markdown as HTML (headings, paragraphs, lists,
// tables, code, emphasis). Its text comes from documents and their errors,
// so nothing in it becomes markup: raw HTML shows as text, and a link or an
// image shows as its text, never as an element with a URL.
std::string MarkdownToHtml(std::string_view markdown);

}  // namespace ingest
