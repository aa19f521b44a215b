// Pass E: the graph of one document. Nodes: source, section, chunk, entity;
// edges: contains (source/section -> section/chunk), next (chunk -> chunk),
// mentions (chunk -> entity). Ids are stable content hashes.

#include <algorithm>
#include <map>

#include "common/sha256.h"
#include "common/utf8.h"
#include "worker/passes/passes.h"

namespace ingest {
namespace {

constexpr size_t kLabelBytes = 80;

GraphRecord Node(const std::string& id, const std::string& kind, const std::string& label,
                 const std::string& source_id) {
  GraphRecord r;
  GraphNode* n = r.mutable_node();
  n->set_id(id);
  n->set_kind(kind);
  n->set_label(label);
  n->set_source_id(source_id);
  return r;
}

GraphRecord Edge(const std::string& kind, const std::string& from, const std::string& to,
                 const std::string& source_id) {
  GraphRecord r;
  GraphEdge* e = r.mutable_edge();
  e->set_kind(kind);
  e->set_from(from);
  e->set_to(to);
  e->set_source_id(source_id);
  return r;
}

// The index keeps ids distinct when an outline repeats a title on one page.
std::string SectionNodeId(const std::string& source_id, int index, const Section& s) {
  return ContentId("sec_",
                   source_id + '\0' + std::to_string(index) + '\0' + std::to_string(s.offset()) + '\0' + s.title());
}

}  // namespace

std::string EntityNodeId(std::string_view name) { return ContentId("ent_", NormalizeText(name)); }

std::vector<GraphRecord> CompileGraph(const TocRecord& toc, const std::vector<ChunkRecord>& chunks,
                                      const std::vector<EnrichedRecord>& enriched) {
  const std::string& sid = toc.source_id();
  std::vector<GraphRecord> nodes;
  std::vector<GraphRecord> edges;
  nodes.push_back(Node(sid, "source", toc.path(), sid));

  // Sections nest by level: each is contained by the nearest open section
  // of a lower level, or by the source.
  std::vector<std::pair<uint64_t, std::string>> section_starts;  // offset -> node id
  std::vector<std::pair<uint32_t, std::string>> stack;           // level, node id
  for (int i = 0; i < toc.sections_size(); ++i) {
    const Section& s = toc.sections(i);
    std::string id = SectionNodeId(sid, i, s);
    nodes.push_back(Node(id, "section", s.title(), sid));
    while (!stack.empty() && stack.back().first >= s.level()) stack.pop_back();
    edges.push_back(Edge("contains", stack.empty() ? sid : stack.back().second, id, sid));
    stack.emplace_back(s.level(), id);
    section_starts.emplace_back(s.offset(), id);
  }

  std::vector<const ChunkRecord*> ordered;
  ordered.reserve(chunks.size());
  for (const ChunkRecord& c : chunks) ordered.push_back(&c);
  std::stable_sort(ordered.begin(), ordered.end(), [](const ChunkRecord* a, const ChunkRecord* b) {
    return a->metadata().byte_start() < b->metadata().byte_start();
  });
  std::map<std::string, const EnrichedRecord*> enriched_by_id;
  for (const EnrichedRecord& e : enriched) enriched_by_id[e.chunk_id()] = &e;

  std::map<std::string, std::string> entity_nodes;  // id -> label
  const ChunkRecord* previous = nullptr;
  for (const ChunkRecord* c : ordered) {
    std::string label(c->text().substr(0, Utf8FloorBoundary(c->text(), kLabelBytes)));
    nodes.push_back(Node(c->chunk_id(), "chunk", label, sid));
    // The innermost section that starts at or before the chunk contains it.
    auto after = std::upper_bound(section_starts.begin(), section_starts.end(), c->metadata().byte_start(),
                                  [](uint64_t offset, const auto& s) { return offset < s.first; });
    edges.push_back(
        Edge("contains", after == section_starts.begin() ? sid : std::prev(after)->second, c->chunk_id(), sid));
    if (previous != nullptr) edges.push_back(Edge("next", previous->chunk_id(), c->chunk_id(), sid));
    previous = c;
    auto e = enriched_by_id.find(c->chunk_id());
    if (e == enriched_by_id.end()) continue;
    for (const Entity& entity : e->second->entities()) {
      std::string id = EntityNodeId(entity.name());
      entity_nodes.emplace(id, entity.name());
      edges.push_back(Edge("mentions", c->chunk_id(), id, sid));
    }
  }

  std::vector<GraphRecord> out;
  out.reserve(entity_nodes.size() + nodes.size() + edges.size());
  for (const auto& [id, label] : entity_nodes) out.push_back(Node(id, "entity", label, ""));
  for (auto& n : nodes) out.push_back(std::move(n));
  for (auto& e : edges) out.push_back(std::move(e));
  return out;
}

}  // namespace ingest
