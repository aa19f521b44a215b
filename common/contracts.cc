#include "common/contracts.h"

#include <set>

#include "common/utf8.h"

namespace ingest {
namespace {

bool IsHex64(const std::string& s) {
  if (s.size() != 64) return false;
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

Status Require(bool condition, const std::string& what) {
  if (condition) return Status::Ok();
  return InvalidArgument(what);
}

}  // namespace

Status ValidateToc(const TocRecord& r) {
  INGEST_RETURN_IF_ERROR(Require(!r.source_id().empty(), "source_id is empty"));
  INGEST_RETURN_IF_ERROR(Require(!r.path().empty(), "path is empty"));
  INGEST_RETURN_IF_ERROR(Require(IsHex64(r.checksum()), "checksum is not a sha256 hex digest"));
  for (const Section& s : r.sections()) {
    INGEST_RETURN_IF_ERROR(
        Require(s.level() >= 1 && s.level() <= 6, "sections.level out of 1..6 in '" + s.title() + "'"));
    INGEST_RETURN_IF_ERROR(Require(s.page_start() >= 1, "sections.page_start is 0"));
    INGEST_RETURN_IF_ERROR(Require(s.offset() <= r.bytes(), "sections.offset beyond the document"));
  }
  for (const DictionaryTerm& t : r.terms()) {
    INGEST_RETURN_IF_ERROR(Require(!t.term().empty(), "terms.term is empty"));
  }
  return Status::Ok();
}

Status ValidateSplit(const SplitRecord& r) {
  INGEST_RETURN_IF_ERROR(Require(!r.source_id().empty(), "source_id is empty"));
  INGEST_RETURN_IF_ERROR(Require(r.part() < r.parts(), "part is not below parts"));
  INGEST_RETURN_IF_ERROR(Require(r.byte_start() <= r.byte_end(), "byte_start after byte_end"));
  return Status::Ok();
}

Status ValidateChunk(const ChunkRecord& r) {
  INGEST_RETURN_IF_ERROR(Require(!r.chunk_id().empty(), "chunk_id is empty"));
  INGEST_RETURN_IF_ERROR(Require(!r.source_id().empty(), "source_id is empty"));
  INGEST_RETURN_IF_ERROR(Require(!r.text().empty(), "text is empty in " + r.chunk_id()));
  INGEST_RETURN_IF_ERROR(Require(IsValidUtf8(r.text()), "text is not UTF-8 in " + r.chunk_id()));
  INGEST_RETURN_IF_ERROR(Require(r.page() >= 1, "page is 0 in " + r.chunk_id()));
  INGEST_RETURN_IF_ERROR(
      Require(r.metadata().byte_start() < r.metadata().byte_end(), "metadata byte range is empty in " + r.chunk_id()));
  return Status::Ok();
}

Status ValidateEnriched(const EnrichedRecord& r) {
  INGEST_RETURN_IF_ERROR(Require(!r.chunk_id().empty(), "chunk_id is empty"));
  INGEST_RETURN_IF_ERROR(Require(!r.source_id().empty(), "source_id is empty"));
  for (const Entity& e : r.entities()) {
    INGEST_RETURN_IF_ERROR(Require(!e.name().empty(), "entities.name is empty in " + r.chunk_id()));
    INGEST_RETURN_IF_ERROR(
        Require(e.kind() == "term" || e.kind() == "phrase", "entities.kind '" + e.kind() + "' in " + r.chunk_id()));
  }
  return Status::Ok();
}

Status ValidateGraph(const GraphRecord& r) {
  static const std::set<std::string> kNodeKinds = {"source", "section", "chunk", "entity"};
  static const std::set<std::string> kEdgeKinds = {"contains", "next", "mentions"};
  if (r.has_node()) {
    INGEST_RETURN_IF_ERROR(Require(!r.node().id().empty(), "node.id is empty"));
    INGEST_RETURN_IF_ERROR(Require(kNodeKinds.count(r.node().kind()) == 1, "node.kind '" + r.node().kind() + "'"));
    INGEST_RETURN_IF_ERROR(Require(r.node().kind() == "entity" || !r.node().source_id().empty(),
                                   "node.source_id is empty for " + r.node().id()));
    return Status::Ok();
  }
  if (r.has_edge()) {
    INGEST_RETURN_IF_ERROR(Require(kEdgeKinds.count(r.edge().kind()) == 1, "edge.kind '" + r.edge().kind() + "'"));
    INGEST_RETURN_IF_ERROR(Require(!r.edge().from().empty() && !r.edge().to().empty(), "edge endpoint is empty"));
    return Status::Ok();
  }
  return InvalidArgument("graph record is neither node nor edge");
}

Status ValidateCleanup(const CleanupRecord& r) {
  if (r.integrity_errors_size() > 0) {
    return InvalidArgument(std::to_string(r.integrity_errors_size()) +
                           " referential integrity errors, first: " + r.integrity_errors(0));
  }
  return Status::Ok();
}

const std::string& GraphSourceId(const GraphRecord& record) {
  return record.has_node() ? record.node().source_id() : record.edge().source_id();
}

}  // namespace ingest
