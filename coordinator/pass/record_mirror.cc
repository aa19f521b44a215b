#include "coordinator/pass/record_mirror.h"

#include <fcntl.h>
#include <unistd.h>

#include "common/artifact.h"
#include "common/atomic_file.h"

namespace ingest {

Status RecordMirror::Read(const std::string& source_id, RecordBatch* batch) const {
  auto it = index_.find(source_id);
  if (it == index_.end()) return Status::Ok();
  int fd = ::open(path_.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return ErrnoStatus(errno, path_.string());
  std::string bytes(it->second.size, '\0');
  ssize_t n = ::pread(fd, bytes.data(), bytes.size(), static_cast<off_t>(it->second.offset));
  ::close(fd);
  if (n != static_cast<ssize_t>(bytes.size())) return DataLoss(path_.string() + ": short read");
  RecordBatch records;
  if (!records.ParseFromString(bytes)) return DataLoss(path_.string() + ": unreadable records of " + source_id);
  batch->MergeFrom(records);
  return Status::Ok();
}

RecordMirrorWriter::RecordMirrorWriter(RecordMirror mirror) : mirror_(std::move(mirror)) {}

Result<RecordMirrorWriter> RecordMirrorWriter::Open(const std::filesystem::path& path, Pass pass) {
  // Truncate now; Finish writes the whole file.
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return ErrnoStatus(errno, path.string());
  ::close(fd);
  return RecordMirrorWriter(RecordMirror(path, pass));
}

Status RecordMirrorWriter::Add(const std::string& source_id, const google::protobuf::Message& record) {
  if (source_id != current_) INGEST_RETURN_IF_ERROR(Flush());
  current_ = source_id;
  AddToBatch(mirror_.pass_, record, &batch_);
  return Status::Ok();
}

Status RecordMirrorWriter::Flush() {
  if (BatchSize(mirror_.pass_, batch_) == 0) return Status::Ok();
  std::string bytes = batch_.SerializeAsString();
  mirror_.index_[current_] = RecordMirror::Range{offset_, bytes.size()};
  offset_ += bytes.size();
  buffer_ += bytes;
  batch_.Clear();
  return buffer_.size() < (4 << 20) ? Status::Ok() : WriteBuffer();
}

Status RecordMirrorWriter::WriteBuffer() {
  std::FILE* f = std::fopen(mirror_.path_.c_str(), "ab");
  if (f == nullptr) return ErrnoStatus(errno, mirror_.path_.string());
  bool ok = std::fwrite(buffer_.data(), 1, buffer_.size(), f) == buffer_.size();
  ok = (std::fclose(f) == 0) && ok;
  if (!ok) return ErrnoStatus(errno, mirror_.path_.string());
  buffer_.clear();
  return Status::Ok();
}

Result<RecordMirror> RecordMirrorWriter::Finish() {
  INGEST_RETURN_IF_ERROR(Flush());
  INGEST_RETURN_IF_ERROR(WriteBuffer());
  return std::move(mirror_);
}

}  // namespace ingest
