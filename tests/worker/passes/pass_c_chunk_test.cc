#include <gtest/gtest.h>

#include "common/utf8.h"
#include "worker/passes/passes.h"

namespace ingest {
namespace {

std::string Words(int n) {
  std::string text;
  for (int i = 0; i < n; ++i) {
    text += "word" + std::to_string(i);
    text += (i % 12 == 11) ? ". " : " ";
  }
  return text;
}

TEST(CutChunksTest, ChunksStayNearTargetAndEndAtSentences) {
  std::string text = Words(2000);
  std::vector<TextSpan> spans = CutChunks(text, {.chunk_chars = 300, .overlap_chars = 0}, {});
  ASSERT_GT(spans.size(), 10u);
  for (size_t i = 0; i + 1 < spans.size(); ++i) {
    EXPECT_LE(spans[i].end - spans[i].begin, 300u);
    EXPECT_GE(spans[i].end - spans[i].begin, 150u);
    EXPECT_EQ(text[spans[i].end - 1], '.') << "chunk " << i << " should end at a sentence";
  }
  EXPECT_EQ(spans.back().end, text.size() - 1);  // trailing space trimmed
}

TEST(CutChunksTest, OverlapRepeatsTheTailOfThePreviousChunkFromAWordStart) {
  std::string text = Words(2000);
  std::vector<TextSpan> spans = CutChunks(text, {.chunk_chars = 300, .overlap_chars = 60}, {});
  for (size_t i = 1; i < spans.size(); ++i) {
    EXPECT_LT(spans[i].begin, spans[i - 1].end) << "chunk " << i << " overlaps";
    EXPECT_GT(spans[i].begin, spans[i - 1].begin);
    EXPECT_EQ(text[spans[i].begin - 1], ' ') << "chunk " << i << " starts at a word";
  }
}

TEST(CutChunksTest, NeverSplitsAUtf8SequenceEvenWithoutWhitespace) {
  std::string text;
  for (int i = 0; i < 3000; ++i) text += "\xE7\x94\xA8";  // 用, no spaces at all
  std::vector<TextSpan> spans = CutChunks(text, {.chunk_chars = 100, .overlap_chars = 10}, {});
  ASSERT_GT(spans.size(), 20u);
  for (const TextSpan& s : spans) {
    std::string_view chunk(text.data() + s.begin, s.end - s.begin);
    EXPECT_TRUE(IsValidUtf8(chunk));
    EXPECT_LE(CountCodePoints(chunk), 100u);
  }
}

TEST(CutChunksTest, BreaksStartNewChunksWithoutOverlap) {
  std::string text = "# A\n\nshort text one.\n\n# B\n\nshort text two.\n";
  size_t b = text.find("# B");
  std::vector<TextSpan> spans = CutChunks(text, {.chunk_chars = 1000, .overlap_chars = 100}, {b});
  ASSERT_EQ(spans.size(), 2u);
  EXPECT_EQ(spans[1].begin, b);
  EXPECT_LE(spans[0].end, b);
}

TEST(CutChunksTest, TerminatesOnWhitespaceOnlyAndEmptyInput) {
  EXPECT_TRUE(CutChunks("", {}, {}).empty());
  EXPECT_TRUE(CutChunks("   \n\n\t ", {}, {}).empty());
}

TEST(ChunkPartTest, LabelsSectionPathPageAndStableIds) {
  std::string text = "# Top\n\nIntro text.\n\n## Sub\n\nSub text.\n\fPage two text.\n";
  PartLayout layout;
  layout.sections.resize(2);
  layout.sections[0].set_title("Top");
  layout.sections[0].set_level(1);
  layout.sections[0].set_offset(0);
  layout.sections[1].set_title("Sub");
  layout.sections[1].set_level(2);
  layout.sections[1].set_offset(text.find("## Sub"));
  layout.page_starts = FormFeedPageStarts(text);
  SplitRecord part;
  part.set_source_id("doc_1");
  part.set_byte_start(0);
  part.set_byte_end(text.size());
  part.set_page_start(1);
  std::vector<ChunkRecord> chunks = ChunkPart(text, part, layout, "markdown", {.chunk_chars = 25, .overlap_chars = 0});
  ASSERT_GE(chunks.size(), 3u);
  EXPECT_EQ(chunks[0].section(), "Top");
  EXPECT_EQ(chunks[1].section(), "Top > Sub");
  EXPECT_EQ(chunks.back().page(), 2u);
  EXPECT_EQ(chunks.back().text(), "Page two text.");
  std::vector<ChunkRecord> again = ChunkPart(text, part, layout, "markdown", {.chunk_chars = 25, .overlap_chars = 0});
  for (size_t i = 0; i < chunks.size(); ++i) {
    EXPECT_EQ(chunks[i].chunk_id(), again[i].chunk_id());
    EXPECT_EQ(chunks[i].chunk_id().rfind("chk_", 0), 0u);
    EXPECT_EQ(chunks[i].metadata().ordinal(), i);
  }
}

TEST(ChunkPartTest, InvalidUtf8IsReplacedInChunkText) {
  std::string text = "bad \xFF byte here.";
  SplitRecord part;
  part.set_source_id("doc_1");
  part.set_byte_end(text.size());
  std::vector<ChunkRecord> chunks = ChunkPart(text, part, PartLayout{}, "text", {});
  ASSERT_EQ(chunks.size(), 1u);
  EXPECT_TRUE(IsValidUtf8(chunks[0].text()));
}

TEST(ChunkPartTest, LaterPartsKeepDocumentOffsetsSectionsAndPages) {
  std::string doc = "# A\n\nfirst part text.\n\f## B\n\nsecond part text.\n";
  size_t cut = doc.find("## B");
  PartLayout layout;
  layout.sections.resize(2);
  layout.sections[0].set_title("A");
  layout.sections[0].set_level(1);
  layout.sections[1].set_title("B");
  layout.sections[1].set_level(2);
  layout.sections[1].set_offset(cut);
  layout.page_starts = FormFeedPageStarts(doc);
  SplitRecord part;
  part.set_source_id("doc_1");
  part.set_part(1);
  part.set_byte_start(cut);
  part.set_byte_end(doc.size());
  std::vector<ChunkRecord> chunks =
      ChunkPart(std::string_view(doc).substr(cut), part, layout, "markdown", {.chunk_chars = 1000, .overlap_chars = 0});
  ASSERT_EQ(chunks.size(), 1u);
  EXPECT_EQ(chunks[0].metadata().byte_start(), cut);
  EXPECT_EQ(chunks[0].section(), "A > B");
  EXPECT_EQ(chunks[0].page(), 2u);
}

}  // namespace
}  // namespace ingest
