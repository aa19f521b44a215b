#include <gtest/gtest.h>

#include <map>

#include "worker/passes/passes.h"

namespace ingest {
namespace {

TEST(CompileGraphTest, BuildsContainsNextAndMentionsEdges) {
  TocRecord toc;
  toc.set_source_id("doc_1");
  toc.set_path("a.md");
  Section* top = toc.add_sections();
  top->set_title("Top");
  top->set_level(1);
  top->set_offset(0);
  Section* sub = toc.add_sections();
  sub->set_title("Sub");
  sub->set_level(2);
  sub->set_offset(100);
  std::vector<ChunkRecord> chunks(3);
  std::vector<EnrichedRecord> enriched(3);
  for (int i = 0; i < 3; ++i) {
    chunks[i].set_chunk_id("chk_" + std::to_string(i));
    chunks[i].set_source_id("doc_1");
    chunks[i].set_text("text " + std::to_string(i));
    chunks[i].mutable_metadata()->set_byte_start(static_cast<uint64_t>(i) * 80);
    enriched[i].set_chunk_id(chunks[i].chunk_id());
  }
  Entity* e = enriched[2].add_entities();
  e->set_name("Grace Hopper");
  e->set_kind("phrase");

  std::vector<GraphRecord> graph = CompileGraph(toc, chunks, enriched);
  std::map<std::string, int> kinds;
  std::map<std::string, std::string> container;  // chunk -> containing node
  for (const GraphRecord& g : graph) {
    if (g.has_node()) ++kinds["node:" + g.node().kind()];
    if (g.has_edge()) {
      ++kinds["edge:" + g.edge().kind()];
      if (g.edge().kind() == "contains") container[g.edge().to()] = g.edge().from();
    }
  }
  EXPECT_EQ(kinds["node:source"], 1);
  EXPECT_EQ(kinds["node:section"], 2);
  EXPECT_EQ(kinds["node:chunk"], 3);
  EXPECT_EQ(kinds["node:entity"], 1);
  EXPECT_EQ(kinds["edge:next"], 2);
  EXPECT_EQ(kinds["edge:mentions"], 1);
  EXPECT_EQ(kinds["edge:contains"], 5);               // 2 sections + 3 chunks
  EXPECT_EQ(container["chk_0"], container["chk_1"]);  // both in "Top"
  EXPECT_NE(container["chk_2"], container["chk_0"]);  // offset 160 is in "Sub"
  EXPECT_TRUE(graph.front().has_node());
  EXPECT_EQ(graph.front().node().kind(), "entity");
  EXPECT_EQ(graph.front().node().source_id(), "");
  EXPECT_EQ(graph.front().node().id(), EntityNodeId("grace  hopper"));
}

}  // namespace
}  // namespace ingest
