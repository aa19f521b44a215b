#include "common/proto_json.h"

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>
#include <google/protobuf/util/json_util.h>
#include <google/protobuf/util/type_resolver_util.h>
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <random>
#include <string>

#include "common/pass.h"
#include "common/utf8.h"
#include "proto/contracts.pb.h"
#include "proto/fleet.pb.h"
#include "proto/manifest.pb.h"
#include "tests/testing/testing.h"

namespace ingest {
namespace {

std::string ProtobufJson(const google::protobuf::Message& message) { return ReferenceJson(message); }

TEST(ProtoJsonTest, EveryCodePointIsWrittenAsProtobufWritesIt) {
  // 256 code points per record keeps protobuf's printer (the slow side) fast; a block that differs
  // is then narrowed to its first differing code point, so a failure names one code point.
  auto differs = [](const std::string& text) {
    Section section;
    section.set_title(text);
    return ToJson(section) != ProtobufJson(section);
  };
  auto first_differing = [&](uint32_t first, uint32_t last) {
    for (uint32_t cp = first; cp <= last; ++cp) {
      if (cp >= 0xd800 && cp <= 0xdfff) continue;
      std::string one;
      AppendCodePoint(cp, &one);
      if (differs(one)) return cp;
    }
    return last;
  };
  std::string text;
  uint32_t block_start = 1;
  for (uint32_t cp = 1; cp <= 0x10ffff; ++cp) {
    if (cp >= 0xd800 && cp <= 0xdfff) continue;  // not code points of UTF-8
    AppendCodePoint(cp, &text);
    if (cp % 256 != 255 && cp != 0x10ffff) continue;
    if (differs(text)) {
      FAIL() << "U+" << std::hex << first_differing(block_start, cp) << " is written unlike protobuf writes it";
    }
    text.clear();
    block_start = cp + 1;
  }
}

TEST(ProtoJsonTest, EveryAsciiByteAloneIsEscapedAsProtobufEscapesIt) {
  for (int c = 1; c < 0x80; ++c) {
    Section section;
    section.set_title(std::string(1, static_cast<char>(c)) + "x");
    EXPECT_EQ(ToJson(section), ProtobufJson(section)) << "byte " << c;
  }
}

TEST(ProtoJsonTest, MalformedUtf8IsLeftToProtobufsPrinter) {
  for (std::string bad : {std::string("a\xff"
                                      "b"),
                          std::string("\xc3"), std::string("\xed\xa0\x80"), std::string("\xc0\xaf")}) {
    TocRecord record;
    record.set_path(bad);
    EXPECT_EQ(ToJson(record), ProtobufJson(record));
  }
}

// Random records of every pass, every field filled or left empty at random.
class RandomRecords {
 public:
  explicit RandomRecords(uint32_t seed) : rng_(seed) {}

  std::string Text() {
    static const std::vector<std::string> kPieces = {"a", "Zz", " ",  "\n",     "\t",       "\"", "\\",   "<",    ">",
                                                     "&", "é",  "用", "\u2028", "\xc2\xad", "😀",  "\x01", "\x7f", ""};
    std::string out;
    const int n = Pick(6);
    for (int i = 0; i < n; ++i) out += kPieces[Pick(static_cast<int>(kPieces.size()))];
    return out;
  }
  uint64_t Number() {
    switch (Pick(4)) {
      case 0:
        return 0;
      case 1:
        return Pick(1000);
      case 2:
        return std::numeric_limits<uint32_t>::max();
      default:
        return rng_();
    }
  }
  double Real() {
    static const double kValues[] = {0.0,
                                     -0.0,
                                     1.0,
                                     0.1,
                                     1e21,
                                     1e-7,
                                     2.5e-5,
                                     123456789012345678.0,
                                     1e300,
                                     7.0 / 3,
                                     0.0078125,
                                     -3.75,
                                     std::numeric_limits<double>::infinity(),
                                     std::nan("")};
    if (Pick(2) == 0) return kValues[Pick(static_cast<int>(std::size(kValues)))];
    return std::uniform_real_distribution<double>(-1e6, 1e6)(rng_);
  }
  int Pick(int n) { return static_cast<int>(rng_() % static_cast<uint64_t>(n)); }

  TocRecord Toc() {
    TocRecord r;
    r.set_source_id(Text());
    r.set_path(Text());
    r.set_format(Text());
    for (int i = Pick(3); i > 0; --i) {
      Section* s = r.add_sections();
      s->set_title(Text());
      s->set_level(static_cast<uint32_t>(Number()));
      s->set_offset(Number());
    }
    for (int i = Pick(3); i > 0; --i) r.add_terms()->set_term(Text());
    r.set_bytes(Number());
    for (int i = Pick(3); i > 0; --i) r.add_page_offsets(Number());
    return r;
  }
  SplitRecord Split() {
    SplitRecord r;
    r.set_source_id(Text());
    r.set_part(static_cast<uint32_t>(Number()));
    r.set_byte_end(Number());
    r.set_size_mb(Real());
    return r;
  }
  ChunkRecord Chunk() {
    ChunkRecord r;
    r.set_chunk_id(Text());
    r.set_text(Text());
    if (Pick(2) == 0) r.mutable_metadata()->set_byte_end(Number());
    return r;
  }
  EnrichedRecord Enriched() {
    EnrichedRecord r;
    r.set_normalized(Text());
    for (int i = Pick(3); i > 0; --i) {
      Entity* e = r.add_entities();
      e->set_name(Text());
      e->set_count(static_cast<uint32_t>(Number()));
    }
    for (int i = Pick(3); i > 0; --i) r.add_keywords(Text());
    return r;
  }
  GraphRecord Graph() {
    GraphRecord r;
    if (Pick(3) == 0) return r;  // neither: the oneof prints nothing
    if (Pick(2) == 0) {
      r.mutable_node()->set_label(Text());
    } else {
      r.mutable_edge()->set_to(Text());
    }
    return r;
  }
  CleanupRecord Cleanup() {
    CleanupRecord r;
    r.set_stale_deleted(static_cast<uint32_t>(Number()));
    for (int i = Pick(3); i > 0; --i) {
      DuplicateGroup* g = r.add_duplicates();
      g->set_text_hash(Text());
      g->add_chunk_ids(Text());
    }
    return r;
  }

 private:
  std::mt19937_64 rng_;
};

TEST(ProtoJsonTest, RandomRecordsOfEveryPassAreWrittenAsProtobufWritesThem) {
  RandomRecords random(20261202);
  for (int i = 0; i < 2000; ++i) {
    const TocRecord toc = random.Toc();
    ASSERT_EQ(ToJson(toc), ProtobufJson(toc));
    const SplitRecord split = random.Split();
    ASSERT_EQ(ToJson(split), ProtobufJson(split)) << split.size_mb();
    const ChunkRecord chunk = random.Chunk();
    ASSERT_EQ(ToJson(chunk), ProtobufJson(chunk));
    const EnrichedRecord enriched = random.Enriched();
    ASSERT_EQ(ToJson(enriched), ProtobufJson(enriched));
    const GraphRecord graph = random.Graph();
    ASSERT_EQ(ToJson(graph), ProtobufJson(graph));
    const CleanupRecord cleanup = random.Cleanup();
    ASSERT_EQ(ToJson(cleanup), ProtobufJson(cleanup));
  }
}

TEST(ProtoJsonTest, MessagesWithMapsAndEnumsMatchProtobuf) {
  Manifest manifest;
  manifest.set_job_id("job-1");
  (*manifest.mutable_documents())["b"].set_path("b.md");
  (*manifest.mutable_documents())["a"].set_path("a<1>.md");
  (*manifest.mutable_source_sha_map())["a"] = "00";
  EXPECT_EQ(ToJson(manifest), ProtobufJson(manifest));
  Task task;  // an enum, a oneof of messages, an optional bytes field
  task.set_pass(Pass::PASS_C);
  task.mutable_chunk()->set_chunk_chars(800);
  task.mutable_document()->set_content("body");
  EXPECT_EQ(ToJson(task), ProtobufJson(task));
  task.set_pass(static_cast<Pass>(99));  // a number of a later release
  EXPECT_EQ(ToJson(task), ProtobufJson(task));
}

TEST(ProtoJsonTest, GoldenArtifactLinesReprintToTheSameBytes) {
  for (Pass pass : kAllPasses) {
    const std::filesystem::path path =
        std::filesystem::path(INGEST_SOURCE_DIR) / "tests/golden/examples" / Describe(pass).artifact;
    std::ifstream in(path);
    ASSERT_TRUE(in) << path;
    std::string line;
    int records = 0;
    while (std::getline(in, line)) {
      if (line == "[" || line == "]") continue;
      if (line.back() == ',') line.pop_back();
      std::unique_ptr<google::protobuf::Message> record(Describe(pass).record->New());
      ASSERT_TRUE(FromJson(line, record.get()).ok()) << path << ": " << line;
      EXPECT_EQ(ToJson(*record), line) << path;
      ++records;
    }
    EXPECT_GT(records, 0) << path;
  }
}

TEST(ProtoJsonTest, JsonFedInPiecesIsIndentedAsWhole) {
  const std::string compact =
      R"({"a":"x \"{[,:]}\" y","b":[],"c":{},"d":[{"e":1,"f":[2,3]},{}],"g":{"h":{"i":"\\"}},"j":""})";
  const std::string whole = IndentJson(compact);
  EXPECT_TRUE(whole.starts_with("{\n \"a\": \"x \\\"{[,:]}\\\" y\",\n \"b\": [],\n \"c\": {},\n \"d\": [\n  {\n"))
      << whole;
  for (size_t cut = 1; cut < compact.size(); ++cut) {
    std::string out;
    JsonIndenter indenter([&out](std::string_view bytes) {
      out.append(bytes);
      return Status::Ok();
    });
    ASSERT_OK(indenter.Feed(compact.substr(0, cut)));
    ASSERT_OK(indenter.Feed(compact.substr(cut)));
    ASSERT_OK(indenter.Finish());
    EXPECT_EQ(out, whole) << "cut at " << cut;
  }
}

TEST(ProtoJsonTest, TextIndentedAlreadyKeepsItsPlaceWhateverItsSize) {
  // Small pieces are gathered into blocks, large ones go to the sink as
  // they are: the output is the same.
  for (const size_t size : {size_t{10}, size_t{300} << 10, size_t{3} << 20}) {
    const std::string value = "[\n" + std::string(size, 'x') + "\n]";
    std::string out;
    int sends = 0;
    JsonIndenter indenter([&](std::string_view bytes) {
      out.append(bytes);
      ++sends;
      return Status::Ok();
    });
    ASSERT_OK(indenter.Feed(R"({"before":1,"map":)"));
    ASSERT_OK(indenter.FeedIndented(value));
    ASSERT_OK(indenter.Feed(R"(,"after":2})"));
    ASSERT_OK(indenter.Finish());
    EXPECT_EQ(out, "{\n \"before\": 1,\n \"map\": " + value + ",\n \"after\": 2\n}\n") << size;
    EXPECT_EQ(sends, size < (256 << 10) ? 1 : 3) << size;
  }
}

}  // namespace
}  // namespace ingest
