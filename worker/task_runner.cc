#include "worker/task_runner.h"

#include <chrono>

#include "common/pass.h"
#include "worker/document.h"
#include "worker/passes/passes.h"

namespace ingest {
namespace {

Status RunPassA(const Task& task, RecordBatch* out) {
  INGEST_ASSIGN_OR_RETURN(std::string bytes, ReadDocumentBytes(task.document()));
  if (bytes.empty()) return InvalidArgument(task.document().path() + ": empty document");
  INGEST_ASSIGN_OR_RETURN(std::string format,
                          DetectFormat(task.document().path(), std::string_view(bytes).substr(0, 8192)));
  *out->add_toc() = BuildToc(task.document(), bytes, format);
  return Status::Ok();
}

Status RunPassB(const Task& task, RecordBatch* out) {
  INGEST_ASSIGN_OR_RETURN(std::vector<SplitRecord> parts,
                          SplitDocument(task.document(), task.split_threshold_mb()));
  for (SplitRecord& p : parts) *out->add_splits() = std::move(p);
  return Status::Ok();
}

Status RunPassC(const Task& task, RecordBatch* out) {
  const SplitRecord& part = task.part();
  INGEST_ASSIGN_OR_RETURN(std::string bytes, ReadDocumentBytes(task.document(), part.byte_start(),
                                                               part.byte_end() - part.byte_start()));
  if (bytes.size() != part.byte_end() - part.byte_start()) {
    return Aborted(task.document().path() + ": changed size since pass B");
  }
  std::vector<Section> sections(task.sections().begin(), task.sections().end());
  ChunkerOptions options{task.chunking().chunk_chars(), task.chunking().overlap_chars()};
  for (ChunkRecord& c : ChunkPart(bytes, part, sections, task.format(), options)) *out->add_chunks() = std::move(c);
  return Status::Ok();
}

Status RunPassD(const Task& task, RecordBatch* out) {
  std::vector<std::string> dictionary(task.dictionary().begin(), task.dictionary().end());
  for (const ChunkRecord& c : task.inputs().chunks()) *out->add_enriched() = EnrichChunk(c, dictionary);
  return Status::Ok();
}

Status RunPassE(const Task& task, RecordBatch* out) {
  if (task.inputs().toc_size() != 1) return InvalidArgument("pass E task without its pass A record");
  std::vector<ChunkRecord> chunks(task.inputs().chunks().begin(), task.inputs().chunks().end());
  std::vector<EnrichedRecord> enriched(task.inputs().enriched().begin(), task.inputs().enriched().end());
  for (GraphRecord& g : CompileGraph(task.inputs().toc(0), chunks, enriched)) *out->add_graph() = std::move(g);
  return Status::Ok();
}

Status Run(const Task& task, RecordBatch* out) {
  switch (task.pass()) {
    case Pass::PASS_A: return RunPassA(task, out);
    case Pass::PASS_B: return RunPassB(task, out);
    case Pass::PASS_C: return RunPassC(task, out);
    case Pass::PASS_D: return RunPassD(task, out);
    case Pass::PASS_E: return RunPassE(task, out);
    case Pass::PASS_F: ValidateDocument(task.inputs(), out); return Status::Ok();
    default: return InvalidArgument("task " + task.task_id() + " names no pass");
  }
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
    default:
      error.set_error_class(ERROR_CLASS_TRANSIENT);
      error.set_kind(StatusCodeName(status.code()));
      break;
  }
  return error;
}

TaskResult RunTask(const Task& task) {
  const auto start = std::chrono::steady_clock::now();
  TaskResult result;
  result.set_task_id(task.task_id());
  result.set_attempt(task.attempt());
  Status status;
  try {
    status = Run(task, result.mutable_records());
  } catch (const std::bad_alloc&) {
    status = ResourceExhausted(task.document().path() + ": out of memory");
  } catch (const std::exception& e) {
    // std::regex and protobuf may throw on hostile input; the task fails, the worker lives.
    status = Internal(task.document().path() + ": " + e.what());
  }
  if (!status.ok()) {
    result.clear_records();
    *result.mutable_error() = ClassifyError(status);
  }
  result.set_elapsed_ms(static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                                  std::chrono::steady_clock::now() - start)
                                                  .count()));
  return result;
}

}  // namespace ingest
