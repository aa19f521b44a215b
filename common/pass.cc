#include "common/pass.h"

#include <algorithm>
#include <array>
#include <cctype>

#include "common/contracts.h"

namespace ingest {
namespace {

using google::protobuf::Message;

const google::protobuf::FieldDescriptor* BatchField(const char* name) {
  const google::protobuf::FieldDescriptor* field = RecordBatch::descriptor()->FindFieldByName(name);
  INGEST_CHECK(field != nullptr);
  return field;
}

// Adapts a contract function of one record type to the table's signature.
template <typename Record, Status (*Validate)(const Record&)>
Status ValidateAs(const Message& record) {
  return Validate(static_cast<const Record&>(record));
}

template <typename Record>
const std::string& SourceIdOf(const Message& record) {
  return static_cast<const Record&>(record).source_id();
}

const std::string& NoSourceId(const Message&) {
  static const std::string kCorpusWide;
  return kCorpusWide;
}

const std::string& GraphNodeIdOf(const Message& record) { return static_cast<const GraphRecord&>(record).node().id(); }

const std::string& GraphSourceIdOf(const Message& record) {
  return GraphSourceId(static_cast<const GraphRecord&>(record));
}

void TallyPages(const Message& record, Metrics* totals) {
  totals->set_pages(totals->pages() + static_cast<const TocRecord&>(record).pages());
}

void TallyNothing(const Message&, Metrics*) {}

void TallyChunks(const Message&, Metrics* totals) { totals->set_chunks(totals->chunks() + 1); }

void TallyGraph(const Message& record, Metrics* totals) {
  const auto& g = static_cast<const GraphRecord&>(record);
  if (g.has_edge()) {
    totals->set_graph_edges(totals->graph_edges() + 1);
    return;
  }
  totals->set_graph_nodes(totals->graph_nodes() + 1);
  if (g.node().kind() == "entity") totals->set_entities(totals->entities() + 1);
}

std::array<PassInfo, 6> BuildTable() {
  using P = Pass;
  std::array<PassInfo, 6> t;
  t[0] = {.pass = P::PASS_A,
          .letter = "A",
          .title = "TOC / dictionary prime",
          .artifact = "passA_toc.json",
          .record = &TocRecord::default_instance(),
          .batch_field = BatchField("toc"),
          .reads_document = true,
          .defines_documents = true,
          .totals = {"pages"},
          .tally = TallyPages,
          .validate = ValidateAs<TocRecord, ValidateToc>,
          .source_id = SourceIdOf<TocRecord>};
  t[1] = {.pass = P::PASS_B,
          .letter = "B",
          .title = "large-file split",
          .artifact = "passB_splits.json",
          .record = &SplitRecord::default_instance(),
          .batch_field = BatchField("splits"),
          .upstream = {P::PASS_A},
          .planned_from = P::PASS_A,
          .task_inputs = {P::PASS_A},  // a PDF's page offsets: no second extraction
          .params = Task::kSplit,
          .reads_document = true,
          .tally = TallyNothing,
          .validate = ValidateAs<SplitRecord, ValidateSplit>,
          .source_id = SourceIdOf<SplitRecord>};
  t[2] = {.pass = P::PASS_C,
          .letter = "C",
          .title = "parse / chunk",
          .artifact = "passC_chunks.json",
          .record = &ChunkRecord::default_instance(),
          .batch_field = BatchField("chunks"),
          .upstream = {P::PASS_A, P::PASS_B},
          .planned_from = P::PASS_B,
          .unit = TaskUnit::kPart,
          .params = Task::kChunk,  // carries pass A's sections and format
          .reads_document = true,
          .totals = {"chunks"},
          .tally = TallyChunks,
          .validate = ValidateAs<ChunkRecord, ValidateChunk>,
          .source_id = SourceIdOf<ChunkRecord>};
  t[3] = {.pass = P::PASS_D,
          .letter = "D",
          .title = "enrich",
          .artifact = "passD_enriched.json",
          .record = &EnrichedRecord::default_instance(),
          .batch_field = BatchField("enriched"),
          .upstream = {P::PASS_A, P::PASS_C},
          .planned_from = P::PASS_C,
          .task_inputs = {P::PASS_C},
          .params = Task::kEnrich,  // the dictionary of pass A's terms
          .tally = TallyNothing,
          .validate = ValidateAs<EnrichedRecord, ValidateEnriched>,
          .source_id = SourceIdOf<EnrichedRecord>};
  t[4] = {.pass = P::PASS_E,
          .letter = "E",
          .title = "graph compile",
          .artifact = "passE_graph.json",
          .record = &GraphRecord::default_instance(),
          .batch_field = BatchField("graph"),
          .upstream = {P::PASS_A, P::PASS_C, P::PASS_D},
          .planned_from = P::PASS_A,
          .task_inputs = {P::PASS_A, P::PASS_C, P::PASS_D},
          .merge = MergeKind::kGraph,
          .totals = {"entities", "graph_nodes", "graph_edges"},
          .tally = TallyGraph,
          .validate = ValidateAs<GraphRecord, ValidateGraph>,
          .source_id = GraphSourceIdOf,
          .shared_key = GraphNodeIdOf};
  t[5] = {.pass = P::PASS_F,
          .letter = "F",
          .title = "cleanup / validate",
          .artifact = "passF_cleanup.json",
          .record = &CleanupRecord::default_instance(),
          .upstream = {P::PASS_C, P::PASS_D, P::PASS_E},
          .planned_from = P::PASS_E,
          .task_inputs = {P::PASS_C, P::PASS_D, P::PASS_E},
          .merge = MergeKind::kCleanup,
          .tally = TallyNothing,
          .validate = ValidateAs<CleanupRecord, ValidateCleanup>,
          .source_id = NoSourceId};
  return t;
}

}  // namespace

const PassInfo& Describe(Pass pass) {
  static const std::array<PassInfo, 6> kTable = BuildTable();
  INGEST_CHECK(pass >= Pass::PASS_A && pass <= Pass::PASS_F);
  return kTable[static_cast<size_t>(pass) - 1];
}

const std::string& PassLetter(Pass pass) { return Describe(pass).letter; }

const std::string& ArtifactFileName(Pass pass) { return Describe(pass).artifact; }

const std::vector<Pass>& UpstreamPasses(Pass pass) { return Describe(pass).upstream; }

void CopyTotals(Pass pass, const Metrics& from, Metrics* to) {
  for (const std::string& name : Describe(pass).totals) {
    const google::protobuf::FieldDescriptor* field = Metrics::descriptor()->FindFieldByName(name);
    INGEST_CHECK(field != nullptr && field->cpp_type() == google::protobuf::FieldDescriptor::CPPTYPE_UINT32);
    to->GetReflection()->SetUInt32(to, field, from.GetReflection()->GetUInt32(from, field));
  }
}

void AddTotals(const Metrics& from, Metrics* to) {
  const google::protobuf::Reflection* reflection = Metrics::GetReflection();
  const google::protobuf::Descriptor* descriptor = Metrics::descriptor();
  for (int i = 0; i < descriptor->field_count(); ++i) {
    const google::protobuf::FieldDescriptor* field = descriptor->field(i);
    INGEST_CHECK(field->cpp_type() == google::protobuf::FieldDescriptor::CPPTYPE_UINT32);
    reflection->SetUInt32(to, field, reflection->GetUInt32(*to, field) + reflection->GetUInt32(from, field));
  }
}

Result<Pass> ParsePass(std::string_view text) {
  if (text.size() == 1) {
    char c = static_cast<char>(std::toupper(static_cast<unsigned char>(text[0])));
    if (c >= 'A' && c <= 'F') return static_cast<Pass>(c - 'A' + 1);
  }
  return InvalidArgument("unknown pass '" + std::string(text) + "' (expected one of A,B,C,D,E,F)");
}

Result<std::vector<Pass>> ParsePassList(std::string_view text) {
  std::vector<Pass> passes;
  size_t start = 0;
  while (start <= text.size()) {
    size_t comma = text.find(',', start);
    if (comma == std::string_view::npos) comma = text.size();
    std::string_view item = text.substr(start, comma - start);
    while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
    while (!item.empty() && item.back() == ' ') item.remove_suffix(1);
    INGEST_ASSIGN_OR_RETURN(Pass pass, ParsePass(item));
    if (std::find(passes.begin(), passes.end(), pass) == passes.end()) passes.push_back(pass);
    start = comma + 1;
  }
  std::sort(passes.begin(), passes.end());
  return passes;
}

}  // namespace ingest
