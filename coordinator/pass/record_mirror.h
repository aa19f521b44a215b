#pragma once

#include <google/protobuf/message.h>

#include <cstdint>
#include <filesystem>
#include <map>
#include <string>

#include "common/status.h"
#include "proto/contracts.pb.h"
#include "proto/fleet.pb.h"

namespace ingest {

// A binary copy of an artifact this run wrote, one serialized RecordBatch per
// document, so that later passes of the same run read upstream records
// without parsing JSON again (JSON parsing dominated the coordinator's time).
// Only trusted within the run that wrote it: a resumed run reads the artifact.
class RecordMirror {
 public:
  RecordMirror() = default;
  RecordMirror(std::filesystem::path path, Pass pass) : path_(std::move(path)), pass_(pass) {}

  // Merges the records of `source_id` ("" for corpus-wide records) into `batch`.
  Status Read(const std::string& source_id, RecordBatch* batch) const;

 private:
  friend class RecordMirrorWriter;
  struct Range {
    uint64_t offset = 0;
    uint64_t size = 0;
  };
  std::filesystem::path path_;
  Pass pass_ = Pass::PASS_UNSPECIFIED;
  std::map<std::string, Range> index_;
};

// Writes a RecordMirror while the artifact is merged; records arrive grouped
// by source_id, as in the artifact. Not thread-safe.
class RecordMirrorWriter {
 public:
  static Result<RecordMirrorWriter> Open(const std::filesystem::path& path, Pass pass);
  Status Add(const std::string& source_id, const google::protobuf::Message& record);
  Result<RecordMirror> Finish();

 private:
  explicit RecordMirrorWriter(RecordMirror mirror);
  // Moves the current document's records to the buffer.
  Status Flush();
  // Appends the buffer to the file.
  Status WriteBuffer();

  RecordMirror mirror_;
  std::string current_;
  RecordBatch batch_;
  std::string buffer_;
  uint64_t offset_ = 0;
};

}  // namespace ingest
