#include <gtest/gtest.h>

#include "worker/passes/passes.h"

namespace ingest {
namespace {

SplitInput TextDoc(const std::string& text) {
  SplitInput doc;
  doc.format = kFormatText;
  doc.text = text;
  doc.text_size = text.size();
  doc.page_starts = FormFeedPageStarts(text);
  doc.file_bytes = text.size();
  return doc;
}

TEST(SplitDocumentTest, SmallDocumentIsOnePart) {
  std::string text = "line one\nline two\n";
  std::vector<SplitRecord> parts = SplitDocument("doc_1", TextDoc(text), {.threshold_mb = 1});
  ASSERT_EQ(parts.size(), 1u);
  EXPECT_EQ(parts[0].byte_start(), 0u);
  EXPECT_EQ(parts[0].byte_end(), 18u);
  EXPECT_EQ(parts[0].parts(), 1u);
  EXPECT_EQ(parts[0].page_start(), 1u);
  EXPECT_EQ(parts[0].page_end(), 1u);
}

TEST(SplitDocumentTest, LargeTextIsCutAtLineBreaksIntoContiguousParts) {
  std::string text;
  for (int i = 0; i < 5000; ++i) text += "line number " + std::to_string(i) + " of the large document\n";
  std::vector<SplitRecord> parts = SplitDocument("doc_1", TextDoc(text), {.threshold_mb = 40000.0 / (1 << 20)});
  ASSERT_GT(parts.size(), 3u);
  uint64_t expected_start = 0;
  for (const SplitRecord& p : parts) {
    EXPECT_EQ(p.byte_start(), expected_start);
    EXPECT_EQ(p.parts(), parts.size());
    EXPECT_LE(p.byte_end() - p.byte_start(), 41000u);
    if (p.byte_start() > 0) {
      EXPECT_EQ(text[p.byte_start() - 1], '\n') << "part " << p.part();
    }
    expected_start = p.byte_end();
  }
  EXPECT_EQ(expected_start, text.size());
}

TEST(SplitDocumentTest, TextWithoutLineBreaksStaysWhole) {
  std::string text(100000, 'x');
  EXPECT_EQ(SplitDocument("doc_1", TextDoc(text), {.threshold_mb = 0.01}).size(), 1u);
}

TEST(SplitDocumentTest, LongPdfIsCutIntoPageRanges) {
  // Only sizes and page starts, as pass A records them: no text needed.
  SplitInput doc;
  doc.format = kFormatPdf;
  doc.page_starts.clear();
  for (uint64_t p = 0; p < 10; ++p) doc.page_starts.push_back(p * 100);
  doc.text_size = 999;
  doc.file_bytes = 5000;
  std::vector<SplitRecord> parts = SplitDocument("doc_1", doc, {.threshold_mb = 20, .split_pages = 4});
  ASSERT_EQ(parts.size(), 3u);
  EXPECT_EQ(parts[0].page_start(), 1u);
  EXPECT_EQ(parts[0].page_end(), 4u);
  EXPECT_EQ(parts[1].page_start(), 5u);
  EXPECT_EQ(parts[2].page_end(), 10u);
  EXPECT_EQ(parts[1].byte_start(), doc.page_starts[4]);
  EXPECT_EQ(parts[0].byte_end(), doc.page_starts[4] - 1);  // the form feed between parts belongs to neither
  EXPECT_EQ(parts[2].byte_end(), 999u);
}

}  // namespace
}  // namespace ingest
