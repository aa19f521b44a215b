#include <gtest/gtest.h>

#include "worker/passes/passes.h"

namespace ingest {
namespace {

DocumentRef Ref() {
  DocumentRef r;
  r.set_source_id("doc_1");
  r.set_source("rules");
  r.set_path("a.md");
  return r;
}

TocRecord Toc(const std::string& text, const std::string& format) {
  ExtractedDocument doc = format == kFormatMarkdown ? ExtractMarkdown(text, 1000) : ExtractedDocument{};
  if (format != kFormatMarkdown) {
    doc.text = text;
    doc.sections = TextHeadings(text, 1000);
  }
  doc.format = format;
  doc.page_starts = FormFeedPageStarts(doc.text);
  doc.page_count = static_cast<uint32_t>(doc.page_starts.size());
  for (Section& s : doc.sections) s.set_page_start(PageAt(doc.page_starts, 1, s.offset()));
  return BuildToc(Ref(), doc, text.size(), std::string(64, 'a'));
}

TEST(BuildTocTest, MarkdownHeadingsBecomeSectionsWithLevels) {
  TocRecord toc =
      Toc("# Title\n\nIntro.\n\n## Part *One* ##\n\ntext\n\nSetext Two\n----------\n\n```\n# not a "
          "heading\n```\n\n###### Deep\n",
          kFormatMarkdown);
  ASSERT_EQ(toc.sections_size(), 4);
  EXPECT_EQ(toc.sections(0).title(), "Title");
  EXPECT_EQ(toc.sections(0).level(), 1u);
  EXPECT_EQ(toc.sections(1).title(), "Part One");
  EXPECT_EQ(toc.sections(1).level(), 2u);
  EXPECT_EQ(toc.sections(2).title(), "Setext Two");
  EXPECT_EQ(toc.sections(3).title(), "Deep");
  EXPECT_EQ(toc.sections(3).level(), 6u);
  EXPECT_EQ(toc.format(), "markdown");
}

TEST(BuildTocTest, TextHeadingsFromNumberingKeywordsAndCapitals) {
  std::string text =
      "POLICY TITLE\n\n1. Purpose\n\nThe purpose is stated here.\n\n2.1 Scope of work\n\nbody\n\f\nCHAPTER 3 Money\n\n"
      "Not a heading because it ends with a period.\n";
  TocRecord toc = Toc(text, kFormatText);
  ASSERT_EQ(toc.sections_size(), 4);
  EXPECT_EQ(toc.sections(0).title(), "POLICY TITLE");
  EXPECT_EQ(toc.sections(1).title(), "1. Purpose");
  EXPECT_EQ(toc.sections(1).level(), 1u);
  EXPECT_EQ(toc.sections(2).level(), 2u);
  EXPECT_EQ(toc.sections(3).title(), "CHAPTER 3 Money");
  EXPECT_EQ(toc.sections(3).page_start(), 2u);
  EXPECT_EQ(toc.pages(), 2u);
}

TEST(BuildTocTest, GlossaryEntriesAndMeansClausesBecomeTerms) {
  std::string text =
      "# Rules\n\nThe \"Retention Window\" means the days a job is kept.\n\n## Glossary\n\n- **Gate**: the check "
      "before a pass.\n"
      "- Worker Fleet \xE2\x80\x94 all workers.\n- **Gate**: duplicate ignored.\n\n# Next\n\n- Not: a term here\n";
  TocRecord toc = Toc(text, kFormatMarkdown);
  ASSERT_EQ(toc.terms_size(), 3);
  EXPECT_EQ(toc.terms(0).term(), "Retention Window");
  EXPECT_EQ(toc.terms(0).definition(), "the days a job is kept.");
  EXPECT_EQ(toc.terms(1).term(), "Gate");
  EXPECT_EQ(toc.terms(2).term(), "Worker Fleet");
}

TEST(BuildTocTest, LongLinesAreNotSearchedForDefinitions) {
  std::string text = "\"Term\" means x " + std::string(1 << 20, 'a') + "\n";
  TocRecord toc = Toc(text, kFormatText);
  EXPECT_EQ(toc.terms_size(), 0);
}

}  // namespace
}  // namespace ingest
