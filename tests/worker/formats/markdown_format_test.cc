#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "worker/formats/formats.h"

namespace ingest {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

TEST(ExtractMarkdownTest, HeadingsCodeTablesAndLinks) {
  std::string md =
      "# Guide\n\nSee [the manual](http://x.invalid/m) &amp; more.\n\n## Install\n\n```sh\nmake  install\n# "
      "comment\n```\n\n"
      "| Term | Meaning |\n|---|---|\n| Gate | a check |\n\n<div class=\"x\">raw</div>\n";
  ExtractedDocument doc = ExtractMarkdown(md, 100);
  ASSERT_EQ(doc.sections.size(), 2u);
  EXPECT_EQ(doc.sections[0].title(), "Guide");
  EXPECT_EQ(doc.sections[1].title(), "Install");
  EXPECT_EQ(doc.sections[1].level(), 2u);
  EXPECT_EQ(doc.text.substr(doc.sections[1].offset(), 7), "Install");
  EXPECT_THAT(doc.text, HasSubstr("See the manual & more."));
  EXPECT_THAT(doc.text, Not(HasSubstr("http://x.invalid")));
  EXPECT_THAT(doc.text, HasSubstr("make  install\n# comment\n"));  // code verbatim
  EXPECT_THAT(doc.text, HasSubstr("Term | Meaning\nGate | a check"));
  EXPECT_THAT(doc.text, Not(HasSubstr("div")));
  ASSERT_EQ(doc.block_breaks.size(), 2u);
  EXPECT_EQ(doc.text.substr(doc.block_breaks[0], 4), "make");
}

TEST(ExtractMarkdownTest, CapsSectionsOfPathologicalDocuments) {
  std::string md;
  for (int i = 0; i < 5000; ++i) md += "# h" + std::to_string(i) + "\n";
  EXPECT_EQ(ExtractMarkdown(md, 100).sections.size(), 100u);
}

}  // namespace
}  // namespace ingest
