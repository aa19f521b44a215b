#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "common/utf8.h"
#include "worker/formats/formats.h"

namespace ingest {
namespace {

using ::testing::HasSubstr;

TEST(DetectFormatTest, ContentDecidesAndTheExtensionIsAHint) {
  EXPECT_EQ(*DetectFormat("manual.bin", "%PDF-1.7\n..."), "pdf");
  EXPECT_EQ(*DetectFormat("page.txt", "  <!DOCTYPE html><html><body>x</body></html>"), "html");
  EXPECT_EQ(*DetectFormat("page.htm", "<p>fragment</p>"), "html");
  EXPECT_EQ(*DetectFormat("README.md", "# Title\n"), "markdown");
  EXPECT_EQ(*DetectFormat("notes", "plain words\n"), "text");
  EXPECT_EQ(*DetectFormat("utf16.txt", std::string("\xFF\xFEh\0i\0", 6)), "text");
}

TEST(DetectFormatTest, BinaryContentIsRefusedWithItsKind) {
  Result<std::string> zip = DetectFormat("report.md", std::string("PK\x03\x04\x14\0", 6));
  ASSERT_FALSE(zip.ok());
  EXPECT_EQ(zip.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(zip.status().message(), HasSubstr("zip archive"));
  EXPECT_THAT(DetectFormat("x.txt", std::string("ab\0cd", 5)).status().message(), HasSubstr("NUL bytes"));
}

TEST(DecodeTextTest, ConvertsUtf16AndBomsAndLineEnds) {
  uint64_t replaced = 0;
  EXPECT_EQ(DecodeText(std::string("\xFF\xFE"
                                   "A\0\xE9\0\r\0\n\0",
                                   10),
                       &replaced),
            "A\xC3\xA9\n");
  EXPECT_EQ(DecodeText(std::string("\xFE\xFF\0A\xD8\x3D\xDE\x00", 8), &replaced), "A\xF0\x9F\x98\x80");
  EXPECT_EQ(DecodeText("\xEF\xBB\xBFline1\r\nline2\rline3", &replaced), "line1\nline2\nline3");
  EXPECT_EQ(replaced, 0u);
  std::string bad = DecodeText("ok \xFF\xFE bytes", &replaced);
  EXPECT_EQ(replaced, 2u);
  EXPECT_TRUE(IsValidUtf8(bad));
}

TEST(TextHeadingsTest, FindsHeadingsAndPagesFollowFormFeeds) {
  std::string text = "INTRODUCTION\n\nSome text.\n\f\n2.1 Details\n\nMore.\n";
  std::vector<Section> sections = TextHeadings(text, 100);
  ASSERT_EQ(sections.size(), 2u);
  EXPECT_EQ(sections[1].title(), "2.1 Details");
  EXPECT_EQ(sections[1].level(), 2u);
  std::vector<uint64_t> pages = FormFeedPageStarts(text);
  ASSERT_EQ(pages.size(), 2u);
  EXPECT_EQ(PageAt(pages, 1, sections[0].offset()), 1u);
  EXPECT_EQ(PageAt(pages, 1, sections[1].offset()), 2u);
}

}  // namespace
}  // namespace ingest
