#include "worker/task_runner.h"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <optional>
#include <string>
#include <vector>

#include "common/pass.h"
#include "common/path_safety.h"
#include "common/sha256.h"
#include "worker/document.h"
#include "worker/page_fetch.h"
#include "worker/passes/passes.h"

namespace ingest {
namespace {

Status RunPassA(const Task& task, const RecordBatch&, const ExtractLimits& limits, RecordBatch* out) {
  std::string checksum;
  INGEST_ASSIGN_OR_RETURN(ExtractedDocument doc, ExtractDocument(task.document(), limits, 0, 0, &checksum));
  if (checksum.empty()) {  // a PDF: the helper read it
    INGEST_ASSIGN_OR_RETURN(std::filesystem::path real, ResolveDocumentPath(task.document()));
    INGEST_ASSIGN_OR_RETURN(checksum, Sha256File(real));
  }
  INGEST_ASSIGN_OR_RETURN(uint64_t bytes, DocumentSize(task.document()));
  *out->add_toc() = BuildToc(task.document(), doc, bytes, checksum);
  return Status::Ok();
}

Status RunPassB(const Task& task, const RecordBatch& inputs, const ExtractLimits& limits, RecordBatch* out) {
  SplitInput input;
  INGEST_ASSIGN_OR_RETURN(input.file_bytes, DocumentSize(task.document()));
  SplitOptions options{task.split().split_threshold_mb(), task.split().split_pages()};
  ExtractedDocument doc;
  if (inputs.toc_size() == 1) {
    // What pass A recorded of the extracted text (its size, a PDF's page
    // offsets) is enough unless a text document must be cut at line ends:
    // extracting it again would cost more than the rest of the pass.
    const TocRecord& toc = inputs.toc(0);
    input.format = toc.format();
    input.text_size = toc.text_bytes();
    input.page_starts.assign(toc.page_offsets().begin(), toc.page_offsets().end());
    if (input.page_starts.empty()) input.page_starts = {0};
  }
  if (inputs.toc_size() != 1 || SplitNeedsText(input, options)) {
    INGEST_ASSIGN_OR_RETURN(doc, ExtractDocument(task.document(), limits));
    input.format = doc.format;
    input.text = doc.text;
    input.text_size = doc.text.size();
    input.page_starts = doc.page_starts;
  }
  for (SplitRecord& p : SplitDocument(task.document().source_id(), input, options)) *out->add_splits() = std::move(p);
  return Status::Ok();
}

Status RunPassC(const Task& task, const RecordBatch&, const ExtractLimits& limits, RecordBatch* out) {
  const ChunkParams& params = task.chunk();
  const SplitRecord& part = params.part();
  const bool pdf = params.format() == kFormatPdf;
  // A PDF part extracts only its pages; other formats extract the whole
  // document (cheap next to PDF) and take the part's range.
  INGEST_ASSIGN_OR_RETURN(ExtractedDocument doc,
                          pdf ? ExtractDocument(task.document(), limits, part.page_start(), part.page_end())
                              : ExtractDocument(task.document(), limits));
  const uint64_t length = part.byte_end() - part.byte_start();
  const uint64_t local = pdf ? 0 : part.byte_start();
  bool consistent =
      doc.format == params.format() && (pdf ? doc.text.size() == length : part.byte_end() <= doc.text.size());
  if (!consistent) {
    return Aborted(task.document().path() + ": document changed since pass B");
  }
  PartLayout layout;
  layout.sections.assign(params.sections().begin(), params.sections().end());
  layout.first_page = pdf ? doc.first_page : 1;
  // Page starts and breaks in whole-document offsets.
  const uint64_t shift = pdf ? part.byte_start() : 0;
  layout.page_starts.clear();
  for (uint64_t p : doc.page_starts) layout.page_starts.push_back(p + shift);
  for (uint64_t b : doc.block_breaks) layout.breaks.push_back(b + shift);
  // A PDF chunk stays on one page, so its page number is exact for citations.
  if (pdf) layout.breaks.insert(layout.breaks.end(), layout.page_starts.begin(), layout.page_starts.end());
  ChunkerOptions options{params.chunk_chars(), params.overlap_chars()};
  std::string_view text = std::string_view(doc.text).substr(local, length);
  for (ChunkRecord& c : ChunkPart(text, part, layout, params.format(), options)) *out->add_chunks() = std::move(c);
  return Status::Ok();
}

// Every pass D task of a run carries the same dictionary, the corpus's (up
// to 200 terms). Preparing it for matching costs about as much as
// enriching a small document's chunks (BM_PrepareDictionary in
// bench/chunker_bench), so each task thread keeps the last one it prepared
// and uses it again while the terms are the same.
const EnrichDictionary& PreparedDictionary(const google::protobuf::RepeatedPtrField<std::string>& terms) {
  thread_local std::vector<std::string> prepared_terms;
  thread_local std::optional<EnrichDictionary> prepared;
  if (!prepared || !std::equal(terms.begin(), terms.end(), prepared_terms.begin(), prepared_terms.end())) {
    prepared.reset();
    prepared_terms.assign(terms.begin(), terms.end());
    prepared.emplace(prepared_terms);
  }
  return *prepared;
}

Status RunPassD(const Task& task, const RecordBatch& inputs, const ExtractLimits&, RecordBatch* out) {
  const EnrichDictionary& dictionary = PreparedDictionary(task.enrich().dictionary());
  for (const ChunkRecord& c : inputs.chunks()) *out->add_enriched() = EnrichChunk(c, dictionary);
  return Status::Ok();
}

Status RunPassE(const Task&, const RecordBatch& inputs, const ExtractLimits&, RecordBatch* out) {
  if (inputs.toc_size() != 1) return InvalidArgument("pass E task without its pass A record");
  std::vector<ChunkRecord> chunks(inputs.chunks().begin(), inputs.chunks().end());
  std::vector<EnrichedRecord> enriched(inputs.enriched().begin(), inputs.enriched().end());
  for (GraphRecord& g : CompileGraph(inputs.toc(0), chunks, enriched)) *out->add_graph() = std::move(g);
  return Status::Ok();
}

// A page of an http source arrives with its body; the formats read files
// (the PDF helper by path), so the body is staged in a private directory
// that lives as long as the task.
class StagedPage {
 public:
  ~StagedPage() {
    std::error_code ec;
    if (!dir_.empty()) std::filesystem::remove_all(dir_, ec);
  }

  Result<Task> Stage(const Task& task) {
    std::string pattern = (std::filesystem::temp_directory_path() / "ingest-page-XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr) return ErrnoStatus(errno, "stage page " + task.document().path());
    dir_ = pattern;
    Task staged = task;
    DocumentRef* ref = staged.mutable_document();
    INGEST_RETURN_IF_ERROR(CheckRelativePath(dir_, ref->path()));
    const std::filesystem::path file = dir_ / ref->path();
    std::error_code ec;
    std::filesystem::create_directories(file.parent_path(), ec);
    std::ofstream out(file, std::ios::binary);
    out.write(ref->content().data(), static_cast<std::streamsize>(ref->content().size()));
    out.close();
    if (!out) return Unavailable("stage page " + ref->path() + " in " + dir_.string() + ": write failed");
    ref->set_root(dir_.string());
    ref->clear_content();
    return staged;
  }

 private:
  std::filesystem::path dir_;
};

Status RunFetch(const Task& task, FetchResult* out) {
  INGEST_ASSIGN_OR_RETURN(*out, FetchPage(task.fetch()));
  return Status::Ok();
}

Status RunPassF(const Task&, const RecordBatch& inputs, const ExtractLimits&, RecordBatch* out) {
  ValidateDocument(inputs, out);
  return Status::Ok();
}

using PassRunner = Status (*)(const Task&, const RecordBatch& inputs, const ExtractLimits&, RecordBatch*);
// Indexed by Pass: what each pass's task does (its inputs: common/pass.h).
constexpr PassRunner kRunners[] = {nullptr, RunPassA, RunPassB, RunPassC, RunPassD, RunPassE, RunPassF};

Status Run(const Task& task, const ExtractLimits& limits, RecordBatch* out) {
  if (task.pass() < Pass::PASS_A || task.pass() > Pass::PASS_F) {
    return InvalidArgument("task " + task.task_id() + " names no pass");
  }
  const PassInfo& info = Describe(task.pass());
  if (info.params != Task::PARAMS_NOT_SET && task.params_case() != info.params) {
    return InvalidArgument("task " + task.task_id() + " of pass " + info.letter + " lacks its parameters");
  }
  RecordBatch inputs;
  if (!inputs.ParseFromString(task.inputs())) {
    return InvalidArgument("task " + task.task_id() + ": its upstream records do not parse");
  }
  return kRunners[task.pass()](task, inputs, limits, out);
}

}  // namespace

TaskError ClassifyError(const Status& status) {
  TaskError error;
  error.set_message(status.message());
  switch (status.code()) {
    case StatusCode::kNotFound:
      error.set_error_class(ERROR_CLASS_PERMANENT);
      error.set_kind("not_found");
      break;
    case StatusCode::kPermissionDenied:
      error.set_error_class(ERROR_CLASS_PERMANENT);
      error.set_kind("permission_denied");
      break;
    case StatusCode::kInvalidArgument:
      error.set_error_class(ERROR_CLASS_PERMANENT);
      error.set_kind("invalid_document");
      break;
    case StatusCode::kOutOfRange:
      error.set_error_class(ERROR_CLASS_PERMANENT);
      error.set_kind("too_large");
      break;
    case StatusCode::kDataLoss:
      error.set_error_class(ERROR_CLASS_PERMANENT);
      error.set_kind("corrupt");
      break;
    case StatusCode::kDeadlineExceeded:
      // The helper's wall-clock limit: the same file would time out again.
      error.set_error_class(ERROR_CLASS_PERMANENT);
      error.set_kind("timeout");
      break;
    default:
      error.set_error_class(ERROR_CLASS_TRANSIENT);
      error.set_kind(StatusCodeName(status.code()));
      break;
  }
  return error;
}

TaskResult RunTask(const Task& task, const ExtractLimits& limits) {
  const auto start = std::chrono::steady_clock::now();
  const DocumentResolutionScope resolutions;  // the document is resolved once for the task
  TaskResult result;
  result.set_task_id(task.task_id());
  result.set_attempt(task.attempt());
  Status status;
  try {
    if (task.has_fetch()) {
      status = RunFetch(task, result.mutable_fetch());
    } else if (task.document().has_content()) {
      StagedPage page;
      Result<Task> staged = page.Stage(task);
      status = staged.ok() ? Run(*staged, limits, result.mutable_records()) : staged.status();
    } else {
      status = Run(task, limits, result.mutable_records());
    }
  } catch (const std::bad_alloc&) {
    status = ResourceExhausted(task.document().path() + ": out of memory");
  } catch (const std::exception& e) {
    // std::regex and protobuf may throw on hostile input; the task fails, the worker lives.
    status = Internal(task.document().path() + ": " + e.what());
  }
  if (!status.ok()) {
    result.clear_records();
    result.clear_fetch();
    *result.mutable_error() = ClassifyError(status);
  }
  result.set_elapsed_ms(static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start).count()));
  return result;
}

}  // namespace ingest
