#include "common/artifact.h"

#include <fstream>
#include <set>

#include "common/proto_json.h"
#include "common/utf8.h"

namespace ingest {
namespace {

using google::protobuf::Message;

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

Status ValidateToc(const TocRecord& r) {
  INGEST_RETURN_IF_ERROR(Require(!r.source_id().empty(), "source_id is empty"));
  INGEST_RETURN_IF_ERROR(Require(!r.path().empty(), "path is empty"));
  INGEST_RETURN_IF_ERROR(Require(IsHex64(r.checksum()), "checksum is not a sha256 hex digest"));
  for (const Section& s : r.sections()) {
    INGEST_RETURN_IF_ERROR(Require(s.level() >= 1 && s.level() <= 6,
                                   "sections.level out of 1..6 in '" + s.title() + "'"));
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
  INGEST_RETURN_IF_ERROR(Require(r.metadata().byte_start() < r.metadata().byte_end(),
                                 "metadata byte range is empty in " + r.chunk_id()));
  return Status::Ok();
}

Status ValidateEnriched(const EnrichedRecord& r) {
  INGEST_RETURN_IF_ERROR(Require(!r.chunk_id().empty(), "chunk_id is empty"));
  INGEST_RETURN_IF_ERROR(Require(!r.source_id().empty(), "source_id is empty"));
  for (const Entity& e : r.entities()) {
    INGEST_RETURN_IF_ERROR(Require(!e.name().empty(), "entities.name is empty in " + r.chunk_id()));
    INGEST_RETURN_IF_ERROR(Require(e.kind() == "term" || e.kind() == "phrase",
                                   "entities.kind '" + e.kind() + "' in " + r.chunk_id()));
  }
  return Status::Ok();
}

Status ValidateGraph(const GraphRecord& r) {
  static const std::set<std::string> kNodeKinds = {"source", "section", "chunk", "entity"};
  static const std::set<std::string> kEdgeKinds = {"contains", "next", "mentions"};
  if (r.has_node()) {
    INGEST_RETURN_IF_ERROR(Require(!r.node().id().empty(), "node.id is empty"));
    INGEST_RETURN_IF_ERROR(Require(kNodeKinds.count(r.node().kind()) == 1,
                                   "node.kind '" + r.node().kind() + "'"));
    INGEST_RETURN_IF_ERROR(Require(r.node().kind() == "entity" || !r.node().source_id().empty(),
                                   "node.source_id is empty for " + r.node().id()));
    return Status::Ok();
  }
  if (r.has_edge()) {
    INGEST_RETURN_IF_ERROR(Require(kEdgeKinds.count(r.edge().kind()) == 1,
                                   "edge.kind '" + r.edge().kind() + "'"));
    INGEST_RETURN_IF_ERROR(Require(!r.edge().from().empty() && !r.edge().to().empty(),
                                   "edge endpoint is empty"));
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

}  // namespace

std::unique_ptr<Message> NewRecord(Pass pass) {
  switch (pass) {
    case Pass::PASS_A: return std::make_unique<TocRecord>();
    case Pass::PASS_B: return std::make_unique<SplitRecord>();
    case Pass::PASS_C: return std::make_unique<ChunkRecord>();
    case Pass::PASS_D: return std::make_unique<EnrichedRecord>();
    case Pass::PASS_E: return std::make_unique<GraphRecord>();
    case Pass::PASS_F: return std::make_unique<CleanupRecord>();
    default: break;
  }
  INGEST_CHECK(false);
}

Status ValidateRecord(Pass pass, const Message& record) {
  switch (pass) {
    case Pass::PASS_A: return ValidateToc(static_cast<const TocRecord&>(record));
    case Pass::PASS_B: return ValidateSplit(static_cast<const SplitRecord&>(record));
    case Pass::PASS_C: return ValidateChunk(static_cast<const ChunkRecord&>(record));
    case Pass::PASS_D: return ValidateEnriched(static_cast<const EnrichedRecord&>(record));
    case Pass::PASS_E: return ValidateGraph(static_cast<const GraphRecord&>(record));
    case Pass::PASS_F: return ValidateCleanup(static_cast<const CleanupRecord&>(record));
    default: break;
  }
  INGEST_CHECK(false);
}

std::string RecordSourceId(Pass pass, const Message& record) {
  switch (pass) {
    case Pass::PASS_A: return static_cast<const TocRecord&>(record).source_id();
    case Pass::PASS_B: return static_cast<const SplitRecord&>(record).source_id();
    case Pass::PASS_C: return static_cast<const ChunkRecord&>(record).source_id();
    case Pass::PASS_D: return static_cast<const EnrichedRecord&>(record).source_id();
    case Pass::PASS_E: {
      const auto& g = static_cast<const GraphRecord&>(record);
      return g.has_node() ? g.node().source_id() : g.edge().source_id();
    }
    case Pass::PASS_F: return "";
    default: break;
  }
  INGEST_CHECK(false);
}

void AddToBatch(Pass pass, const Message& record, RecordBatch* batch) {
  switch (pass) {
    case Pass::PASS_A: *batch->add_toc() = static_cast<const TocRecord&>(record); return;
    case Pass::PASS_B: *batch->add_splits() = static_cast<const SplitRecord&>(record); return;
    case Pass::PASS_C: *batch->add_chunks() = static_cast<const ChunkRecord&>(record); return;
    case Pass::PASS_D: *batch->add_enriched() = static_cast<const EnrichedRecord&>(record); return;
    case Pass::PASS_E: *batch->add_graph() = static_cast<const GraphRecord&>(record); return;
    default: break;
  }
  INGEST_CHECK(false);
}

int BatchSize(Pass pass, const RecordBatch& batch) {
  switch (pass) {
    case Pass::PASS_A: return batch.toc_size();
    case Pass::PASS_B: return batch.splits_size();
    case Pass::PASS_C: return batch.chunks_size();
    case Pass::PASS_D: return batch.enriched_size();
    case Pass::PASS_E: return batch.graph_size();
    default: return 0;
  }
}

const Message& BatchRecord(Pass pass, const RecordBatch& batch, int i) {
  switch (pass) {
    case Pass::PASS_A: return batch.toc(i);
    case Pass::PASS_B: return batch.splits(i);
    case Pass::PASS_C: return batch.chunks(i);
    case Pass::PASS_D: return batch.enriched(i);
    case Pass::PASS_E: return batch.graph(i);
    default: break;
  }
  INGEST_CHECK(false);
}

ArtifactWriter::ArtifactWriter(AtomicFileWriter file, Pass pass)
    : file_(std::move(file)), pass_(pass), hash_(std::make_unique<Sha256>()) {}

Result<ArtifactWriter> ArtifactWriter::Open(const std::filesystem::path& path, Pass pass) {
  INGEST_ASSIGN_OR_RETURN(AtomicFileWriter file, AtomicFileWriter::Open(path));
  ArtifactWriter writer(std::move(file), pass);
  INGEST_RETURN_IF_ERROR(writer.Write("["));
  return writer;
}

Status ArtifactWriter::Write(std::string_view bytes) {
  hash_->Update(bytes);
  bytes_ += bytes.size();
  return file_.Append(bytes);
}

Status ArtifactWriter::Add(const Message& record) {
  std::string name = file_.path().filename().string();
  INGEST_RETURN_IF_ERROR(ValidateRecord(pass_, record).WithContext(
      name + " record " + std::to_string(records_ + 1)));
  std::string source_id = RecordSourceId(pass_, record);
  if (source_id < last_source_id_) {
    return Internal(name + ": records out of order (" + source_id + " after " + last_source_id_ + ")");
  }
  last_source_id_ = std::move(source_id);
  INGEST_RETURN_IF_ERROR(Write(records_ == 0 ? "\n" : ",\n"));
  INGEST_RETURN_IF_ERROR(Write(ToJson(record)));
  ++records_;
  return Status::Ok();
}

Result<ArtifactRecord> ArtifactWriter::Commit() {
  INGEST_RETURN_IF_ERROR(Write("\n]\n"));
  INGEST_RETURN_IF_ERROR(file_.Commit());
  ArtifactRecord record;
  record.set_path(file_.path().filename().string());
  record.set_sha256(hash_->HexDigest());
  record.set_bytes(bytes_);
  record.set_records(static_cast<uint32_t>(records_));
  return record;
}

Result<ArtifactScan> ScanArtifact(const std::filesystem::path& path, Pass pass,
                                  const std::function<Status(const Message&)>& visit) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return ErrnoStatus(errno, path.string());
  const std::string name = path.filename().string();
  auto fail = [&](uint64_t line, const std::string& what) {
    return InvalidArgument(name + " line " + std::to_string(line) + ": " + what);
  };

  ArtifactScan scan;
  Sha256 hash;
  std::unique_ptr<Message> record = NewRecord(pass);
  std::string line;
  uint64_t line_no = 0;
  uint64_t offset = 0;
  bool closed = false;
  bool expect_more = true;  // the previous record line ended with ','
  std::string last_source_id;
  while (std::getline(in, line)) {
    ++line_no;
    const uint64_t line_offset = offset;
    hash.Update(line);
    offset += line.size();
    if (!in.eof()) {
      hash.Update("\n");
      ++offset;
    }
    if (closed) return fail(line_no, "content after the closing ']'");
    if (line_no == 1) {
      if (line != "[") return fail(line_no, "expected '['");
      continue;
    }
    if (line == "]") {
      if (scan.records > 0 && expect_more) return fail(line_no, "trailing ',' before ']'");
      closed = true;
      continue;
    }
    if (!expect_more) return fail(line_no, "missing ',' after the previous record");
    std::string_view json = line;
    expect_more = !json.empty() && json.back() == ',';
    if (expect_more) json.remove_suffix(1);
    record->Clear();
    Status parsed = FromJson(json, record.get());
    if (!parsed.ok()) return fail(line_no, parsed.message());
    Status valid = ValidateRecord(pass, *record);
    if (!valid.ok()) return fail(line_no, valid.message());
    std::string source_id = RecordSourceId(pass, *record);
    if (source_id < last_source_id) return fail(line_no, "records out of order");
    RecordRange& range = scan.index[source_id];
    if (range.records == 0) range.offset = line_offset;
    range.length = line_offset + json.size() - range.offset;
    ++range.records;
    last_source_id = std::move(source_id);
    ++scan.records;
    if (visit) INGEST_RETURN_IF_ERROR(visit(*record).WithContext(name + " line " + std::to_string(line_no)));
  }
  if (in.bad()) return ErrnoStatus(errno, path.string());
  if (line_no == 0) return InvalidArgument(name + ": empty file");
  if (!closed) return InvalidArgument(name + ": truncated, no closing ']'");
  scan.sha256 = hash.HexDigest();
  scan.bytes = offset;
  return scan;
}

Status ReadRecords(const std::filesystem::path& path, Pass pass, const RecordRange& range,
                   RecordBatch* batch) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return ErrnoStatus(errno, path.string());
  in.seekg(static_cast<std::streamoff>(range.offset));
  std::string buffer(range.length, '\0');
  in.read(buffer.data(), static_cast<std::streamsize>(range.length));
  if (static_cast<uint64_t>(in.gcount()) != range.length) {
    return DataLoss(path.filename().string() + ": short read at offset " + std::to_string(range.offset));
  }
  std::unique_ptr<Message> record = NewRecord(pass);
  size_t start = 0;
  while (start < buffer.size()) {
    size_t end = buffer.find('\n', start);
    if (end == std::string::npos) end = buffer.size();
    std::string_view json(buffer.data() + start, end - start);
    if (!json.empty() && json.back() == ',') json.remove_suffix(1);
    record->Clear();
    INGEST_RETURN_IF_ERROR(FromJson(json, record.get()).WithContext(path.filename().string()));
    AddToBatch(pass, *record, batch);
    start = end + 1;
  }
  return Status::Ok();
}

}  // namespace ingest
