#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <map>

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

TEST(EnrichChunkTest, KeywordsOfWordsThatShareTheirEndsAreCountedApart) {
  // The counts are hashed by each word's first and last four bytes and its
  // length: these forty words collide, and the chunk says each a different
  // number of times. The top five by a plain map, ties by word.
  std::string text;
  std::map<std::string, uint32_t> expected;
  for (int i = 0; i < 40; ++i) {
    std::string word = "head";
    word += static_cast<char>('a' + i / 26);
    word += static_cast<char>('a' + i % 26);
    word += "tail";
    const uint32_t times = 1 + static_cast<uint32_t>((i * 7) % 11);
    for (uint32_t t = 0; t < times; ++t) text += word + " ";
    expected[word] = times;
  }
  std::vector<std::pair<std::string, uint32_t>> ranked(expected.begin(), expected.end());
  std::stable_sort(ranked.begin(), ranked.end(), [](const auto& a, const auto& b) { return a.second > b.second; });
  std::vector<std::string> top;
  for (size_t i = 0; i < 5; ++i) top.push_back(ranked[i].first);
  const EnrichedRecord r = EnrichChunk(Chunk(text), {});
  EXPECT_EQ(std::vector<std::string>(r.keywords().begin(), r.keywords().end()), top);
}

}  // namespace
}  // namespace ingest
