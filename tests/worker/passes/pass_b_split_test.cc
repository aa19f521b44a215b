#include <gtest/gtest.h>

#include "worker/passes/passes.h"

namespace ingest {
namespace {

ExtractedDocument TextDoc(std::string text) {
  ExtractedDocument doc;
  doc.format = kFormatText;
  doc.text = std::move(text);
  doc.page_starts = FormFeedPageStarts(doc.text);
  doc.page_count = static_cast<uint32_t>(doc.page_starts.size());
  return doc;
}

TEST(SplitDocumentTest, SmallDocumentIsOnePart) {
  ExtractedDocument doc = TextDoc("line one\nline two\n");
  std::vector<SplitRecord> parts = SplitDocument("doc_1", doc, 18, {.threshold_mb = 1});
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
  ExtractedDocument doc = TextDoc(text);
  std::vector<SplitRecord> parts = SplitDocument("doc_1", doc, text.size(), {.threshold_mb = 40000.0 / (1 << 20)});
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
  ExtractedDocument doc = TextDoc(std::string(100000, 'x'));
  EXPECT_EQ(SplitDocument("doc_1", doc, 100000, {.threshold_mb = 0.01}).size(), 1u);
}

TEST(SplitDocumentTest, LongPdfIsCutIntoPageRanges) {
  ExtractedDocument doc;
  doc.format = kFormatPdf;
  doc.page_starts.clear();
  for (int p = 0; p < 10; ++p) {
    if (p > 0) doc.text += "\f";
    doc.page_starts.push_back(doc.text.size());
    doc.text += "page " + std::to_string(p + 1) + " text\n";
  }
  doc.page_count = 10;
  std::vector<SplitRecord> parts = SplitDocument("doc_1", doc, 5000, {.threshold_mb = 20, .split_pages = 4});
  ASSERT_EQ(parts.size(), 3u);
  EXPECT_EQ(parts[0].page_start(), 1u);
  EXPECT_EQ(parts[0].page_end(), 4u);
  EXPECT_EQ(parts[1].page_start(), 5u);
  EXPECT_EQ(parts[2].page_end(), 10u);
  EXPECT_EQ(parts[1].byte_start(), doc.page_starts[4]);
  EXPECT_EQ(parts[0].byte_end(), doc.page_starts[4] - 1);  // the form feed between parts belongs to neither
  EXPECT_EQ(parts[2].byte_end(), doc.text.size());
}

}  // namespace
}  // namespace ingest
