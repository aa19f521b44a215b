#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "worker/passes/passes.h"

namespace ingest {
namespace {

using ::testing::ElementsAre;

ChunkRecord Chunk(const std::string& text) {
  ChunkRecord c;
  c.set_chunk_id("chk_1");
  c.set_source_id("doc_1");
  c.set_text(text);
  return c;
}

std::vector<std::string> Names(const EnrichedRecord& r, const std::string& kind) {
  std::vector<std::string> names;
  for (const Entity& e : r.entities()) {
    if (e.kind() == kind) names.push_back(e.name());
  }
  return names;
}

TEST(NormalizeTextTest, CollapsesWhitespaceAndFoldsCase) {
  EXPECT_EQ(NormalizeText("  Hello\n\n  WORLD\t!  "), "hello world !");
  EXPECT_EQ(NormalizeText("Relevé"), "relevé");
}

TEST(NormalizeTextTest, AsciiTextFoldsAsUtf8procFoldsIt) {
  // A leading "é " sends the text through utf8proc; without it, ASCII takes
  // the shortcut. Both must agree on every ASCII byte.
  std::string all = "x";
  for (int c = 1; c < 0x80; ++c) all += static_cast<char>(c);
  all += " The QUICK\tBrown\r\nFox x";
  for (const std::string& text : {all, std::string("  MiXeD  Case\v\f"), std::string("A")}) {
    EXPECT_EQ(NormalizeText("\xC3\xA9 " + text), "\xC3\xA9 " + NormalizeText(text)) << text;
  }
}

TEST(EnrichChunkTest, FindsDictionaryTermsOnWordBoundaries) {
  EnrichedRecord r =
      EnrichChunk(Chunk("The worker  fleet grew. A Gate closed. Gates are plural."), {"Worker Fleet", "Gate"});
  EXPECT_THAT(Names(r, "term"), ElementsAre("Gate", "Worker Fleet"));
  EXPECT_EQ(r.entities(0).count(), 1u);  // "Gates" is not "Gate"
  EXPECT_EQ(r.normalized(), "the worker fleet grew. a gate closed. gates are plural.");
}

TEST(EnrichChunkTest, CapitalizedPhrasesStopAtPunctuationAndLineBreaks) {
  EnrichedRecord r = EnrichChunk(
      Chunk("Grace Hopper met the Bank of England. The Document Archive. It worked.\n\nNight Shift\nTeam"), {});
  EXPECT_THAT(Names(r, "phrase"), ElementsAre("Bank of England", "Document Archive", "Grace Hopper", "Night Shift"));
}

TEST(EnrichChunkTest, KeywordsAreFrequentContentWordsInStableOrder) {
  EnrichedRecord r = EnrichChunk(Chunk("archive archive archive index index zebra with with with with"), {});
  EXPECT_THAT(r.keywords(), ElementsAre("archive", "index", "zebra"));
  EnrichedRecord again = EnrichChunk(Chunk("archive archive archive index index zebra with with with with"), {});
  EXPECT_EQ(r.SerializeAsString(), again.SerializeAsString());
}

}  // namespace
}  // namespace ingest
