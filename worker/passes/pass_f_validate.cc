// Pass F (per document): referential integrity between the chunk (C),
// enrichment (D) and graph (E) records of one document, and a digest of each
// chunk's normalized text for duplicate detection across documents.

#include <set>

#include "common/sha256.h"
#include "worker/passes/passes.h"

namespace ingest {

void ValidateDocument(const RecordBatch& inputs, RecordBatch* out) {
  auto error = [&](const std::string& what) { out->add_integrity_errors(what); };
  std::set<std::string> chunk_ids;
  for (const ChunkRecord& c : inputs.chunks()) {
    if (!chunk_ids.insert(c.chunk_id()).second) error("chunk " + c.chunk_id() + " appears twice in pass C");
  }
  std::set<std::string> enriched_ids;
  for (const EnrichedRecord& e : inputs.enriched()) {
    if (!enriched_ids.insert(e.chunk_id()).second) error("chunk " + e.chunk_id() + " appears twice in pass D");
    if (chunk_ids.count(e.chunk_id()) == 0) error("pass D chunk " + e.chunk_id() + " is not in pass C");
    ChunkDigest* d = out->add_digests();
    d->set_chunk_id(e.chunk_id());
    d->set_text_hash(Sha256Hex(e.normalized()).substr(0, 32));
  }
  for (const std::string& id : chunk_ids) {
    if (enriched_ids.count(id) == 0) error("pass C chunk " + id + " has no pass D record");
  }

  std::set<std::string> node_ids;
  std::set<std::string> chunk_nodes;
  for (const GraphRecord& g : inputs.graph()) {
    if (!g.has_node()) continue;
    if (!node_ids.insert(g.node().id()).second) error("graph node " + g.node().id() + " appears twice");
    if (g.node().kind() == "chunk") chunk_nodes.insert(g.node().id());
  }
  for (const std::string& id : chunk_ids) {
    if (chunk_nodes.count(id) == 0) error("pass C chunk " + id + " has no graph node");
  }
  for (const std::string& id : chunk_nodes) {
    if (chunk_ids.count(id) == 0) error("graph chunk node " + id + " is not in pass C");
  }
  uint32_t edges = 0;
  std::set<std::string> mentioned;
  for (const GraphRecord& g : inputs.graph()) {
    if (!g.has_edge()) continue;
    ++edges;
    const GraphEdge& e = g.edge();
    if (node_ids.count(e.from()) == 0) error(e.kind() + " edge from unknown node " + e.from());
    // Entity nodes are corpus-wide; the coordinator checks those targets.
    bool entity_target = e.kind() == "mentions";
    if (entity_target) mentioned.insert(e.to());
    if (!entity_target && node_ids.count(e.to()) == 0) error(e.kind() + " edge to unknown node " + e.to());
  }
  out->set_edges_checked(edges);
  for (const std::string& id : mentioned) out->add_mentioned_entities(id);
}

}  // namespace ingest
