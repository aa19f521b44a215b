#include "coordinator/pass/record_mirror.h"

#include <fcntl.h>
#include <unistd.h>

#include "common/artifact.h"
#include "common/positional_io.h"

namespace ingest {
namespace {

constexpr size_t kWriteBytes = 4 << 20;

}  // namespace

struct RecordMirror::File {
  File(std::filesystem::path p, int f) : path(std::move(p)), fd(f) {}
  File(const File&) = delete;
  File& operator=(const File&) = delete;
  ~File() { ::close(fd); }
  const std::filesystem::path path;
  const int fd;
};

Result<std::string> RecordMirror::Bytes(const std::string& source_id) const {
  auto it = index_.find(source_id);
  if (it == index_.end()) return std::string();
  std::string bytes(it->second.size, '\0');
  INGEST_ASSIGN_OR_RETURN(bool whole, ReadAt(file_->fd, &bytes, it->second.offset, file_->path));
  if (!whole) return DataLoss(file_->path.string() + ": short read");
  return bytes;
}

Status RecordMirror::Read(const std::string& source_id, RecordBatch* batch) const {
  INGEST_ASSIGN_OR_RETURN(std::string bytes, Bytes(source_id));
  // Merging parses into `batch` directly: concatenated records are appended.
  if (!batch->MergeFromString(bytes)) {
    return DataLoss(file_->path.string() + ": unreadable records of " + source_id);
  }
  return Status::Ok();
}

RecordMirrorWriter::RecordMirrorWriter(RecordMirror mirror, Pass pass) : mirror_(std::move(mirror)), pass_(pass) {}

Result<RecordMirrorWriter> RecordMirrorWriter::Open(const std::filesystem::path& path, Pass pass) {
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return ErrnoStatus(errno, path.string());
  RecordMirror mirror;
  mirror.file_ = std::make_shared<const RecordMirror::File>(path, fd);
  return RecordMirrorWriter(std::move(mirror), pass);
}

void RecordMirrorWriter::SerializePending() {
  if (BatchSize(pass_, pending_) == 0) return;
  pending_.AppendToString(&buffer_);
  pending_.Clear();
}

void RecordMirrorWriter::EndDocument() {
  SerializePending();
  const uint64_t end = written_ + buffer_.size();
  if (end > start_) mirror_.index_[current_] = RecordMirror::Range{start_, end - start_};
  start_ = end;
}

void RecordMirrorWriter::StartDocument(const std::string& source_id) {
  if (source_id == current_) return;
  EndDocument();
  current_ = source_id;
}

Status RecordMirrorWriter::WriteBufferIfFull(size_t limit) {
  if (buffer_.size() < limit) return Status::Ok();
  INGEST_RETURN_IF_ERROR(WriteAt(mirror_.file_->fd, buffer_, written_, mirror_.file_->path));
  written_ += buffer_.size();
  buffer_.clear();
  return Status::Ok();
}

Status RecordMirrorWriter::Add(const std::string& source_id, const google::protobuf::Message& record) {
  StartDocument(source_id);
  AddToBatch(pass_, record, &pending_);
  return WriteBufferIfFull(kWriteBytes);
}

Status RecordMirrorWriter::AddBatch(const std::string& source_id, const RecordBatch& batch) {
  StartDocument(source_id);
  SerializePending();
  batch.AppendToString(&buffer_);
  return WriteBufferIfFull(kWriteBytes);
}

Result<RecordMirror> RecordMirrorWriter::Finish() {
  EndDocument();
  INGEST_RETURN_IF_ERROR(WriteBufferIfFull(0));
  return std::move(mirror_);
}

}  // namespace ingest
