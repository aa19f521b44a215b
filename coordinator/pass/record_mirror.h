#pragma once

#include <google/protobuf/message.h>

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <string>

#include "common/status.h"
#include "proto/contracts.pb.h"
#include "proto/fleet.pb.h"

namespace ingest {

// A binary copy of an artifact this run wrote, one serialized RecordBatch per
// document, so that later passes of the same run read upstream records
// without parsing JSON again (JSON parsing dominated the coordinator's time).
// Only trusted within the run that wrote it: a resumed run reads the artifact.
// One descriptor serves every read (positional reads, no open per task).
class RecordMirror {
 public:
  RecordMirror() = default;

  // Merges the records of `source_id` ("" for corpus-wide records) into `batch`.
  Status Read(const std::string& source_id, RecordBatch* batch) const;
  // The same records as serialized bytes (those of one RecordBatch: a pass's
  // records are one repeated field, so the concatenation the writer makes is
  // that batch's serialization); empty when the document has none.
  Result<std::string> Bytes(const std::string& source_id) const;

 private:
  friend class RecordMirrorWriter;
  struct File;
  struct Range {
    uint64_t offset = 0;
    uint64_t size = 0;
  };
  std::shared_ptr<const File> file_;
  std::map<std::string, Range> index_;
};

// Writes a RecordMirror while the artifact is merged; records arrive grouped
// by source_id, as in the artifact. Not thread-safe.
class RecordMirrorWriter {
 public:
  static Result<RecordMirrorWriter> Open(const std::filesystem::path& path, Pass pass);
  Status Add(const std::string& source_id, const google::protobuf::Message& record);
  // Every record of `batch`, which holds only records of this pass, after
  // those added before: serialized once, as concatenated RecordBatch bytes
  // parse as their merge.
  Status AddBatch(const std::string& source_id, const RecordBatch& batch);
  Result<RecordMirror> Finish();

 private:
  RecordMirrorWriter(RecordMirror mirror, Pass pass);
  // Serializes the records Add collected into the buffer.
  void SerializePending();
  // Records the current document's range (if it has records).
  void EndDocument();
  // Ends the current document's range when `source_id` starts another.
  void StartDocument(const std::string& source_id);
  Status WriteBufferIfFull(size_t limit);

  RecordMirror mirror_;
  Pass pass_;
  std::string current_;  // "" before the first document: an empty range is not recorded
  RecordBatch pending_;
  std::string buffer_;
  uint64_t written_ = 0;  // bytes in the file
  uint64_t start_ = 0;    // of the current document's range
};

}  // namespace ingest
