#pragma once

#include <google/protobuf/message.h>

#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/atomic_file.h"
#include "common/sha256.h"
#include "common/sorted_ids.h"
#include "common/status.h"
#include "proto/contracts.pb.h"
#include "proto/fleet.pb.h"
#include "proto/manifest.pb.h"

namespace ingest {

// An artifact is a JSON array with one canonical record per line:
//   [
//   {...},
//   {...}
//   ]
// The layout is part of the contract, so readers can stream it line by line
// and index it by byte range without a JSON tokenizer.

// The contract record type of each pass.
std::unique_ptr<google::protobuf::Message> NewRecord(Pass pass);

// Checks one record against the contract of `pass`. InvalidArgument names
// the field.
Status ValidateRecord(Pass pass, const google::protobuf::Message& record);

// The document a record belongs to; empty for corpus-wide records (entity
// nodes, the pass F record). Artifacts are sorted by it.
const std::string& RecordSourceId(Pass pass, const google::protobuf::Message& record);

// Byte range of one document's records inside an artifact.
struct RecordRange {
  uint64_t offset = 0;
  uint64_t length = 0;
  uint32_t records = 0;
};

// What stat says of a file. Two equal identities mean it was not written,
// truncated or replaced in between: any of that moves its ctime, which no
// unprivileged call sets back.
struct FileIdentity {
  uint64_t device = 0;
  uint64_t inode = 0;
  uint64_t size = 0;
  int64_t modified_ns = 0;
  int64_t changed_ns = 0;
  bool operator==(const FileIdentity&) const = default;
};
Result<FileIdentity> IdentifyFile(const std::filesystem::path& path);
// What an ArtifactRecord keeps of a file's identity, and whether `path` is
// still the file `record` describes by it (false without a stamp). Its
// inode and modification time, not its device (a volume mounted elsewhere
// has another) nor its change time (every hard link to it changes that).
FileStamp StampOf(const FileIdentity& identity);
bool MatchesStamp(const std::filesystem::path& path, const ArtifactRecord& record);

// source_id -> its records' byte range, "" holding corpus-wide records.
// Built in source_id order, as artifacts are written and read; packed
// (SortedIds), so a document costs its id and 32 bytes: a run holds several
// passes' indexes of every document.
class ArtifactIndex {
 public:
  // The range of `source_id`, added (empty) unless it is the last one:
  // ids must come in order, each one's records together.
  RecordRange& Extend(std::string_view source_id);
  // nullptr when `source_id` has no records.
  const RecordRange* Find(std::string_view source_id) const;
  bool contains(std::string_view source_id) const { return Find(source_id) != nullptr; }
  size_t size() const { return ranges_.size(); }
  // Once complete: lets go of the room left for more.
  void ShrinkToFit() {
    ids_.ShrinkToFit();
    ranges_.shrink_to_fit();
  }

  class Iterator {
   public:
    Iterator(const ArtifactIndex* index, size_t at) : index_(index), at_(at) {}
    std::pair<std::string_view, const RecordRange&> operator*() const {
      return {index_->ids_.at(at_), index_->ranges_[at_]};
    }
    Iterator& operator++() {
      ++at_;
      return *this;
    }
    bool operator!=(const Iterator& other) const { return at_ != other.at_; }

   private:
    const ArtifactIndex* index_;
    size_t at_;
  };
  Iterator begin() const { return {this, 0}; }
  Iterator end() const { return {this, ranges_.size()}; }

 private:
  SortedIds ids_;
  std::vector<RecordRange> ranges_;  // of ids_, position for position
};

struct ArtifactScan {
  // Of the file as this process wrote it (ArtifactWriter); nullopt for a
  // file it read.
  std::optional<FileIdentity> written;
  std::string sha256;
  uint64_t bytes = 0;
  uint64_t records = 0;
  // Shared by copies: the gate hands each pass the scans the merge made.
  std::shared_ptr<const ArtifactIndex> index = std::make_shared<const ArtifactIndex>();
};

// Streams records into an artifact file atomically, hashing as it goes.
// Validates each record and its order, and indexes the byte ranges as it
// writes them, so the file need not be read back. Not thread-safe.
class ArtifactWriter {
 public:
  static Result<ArtifactWriter> Open(const std::filesystem::path& path, Pass pass);

  Status Add(const google::protobuf::Message& record);
  // Appends `count` records that the worker which made them validated and
  // rendered (TaskResult::artifact_json, see common/result_seal.h) as
  // records of `source_id` ("" for corpus-wide ones), which must not sort
  // before those written so far. Only checks that `json` holds `count` lines
  // of objects: the bytes are written as they are.
  Status AddRendered(const std::string& source_id, std::string_view json, uint32_t count);
  // Closes the array, commits the file and returns what the manifest records
  // (path is the file name, relative to the job directory).
  Result<ArtifactRecord> Commit();
  // After Commit: the file as ScanArtifact would find it.
  ArtifactScan TakeScan();

 private:
  ArtifactWriter(AtomicFileWriter file, Pass pass);
  Status Write(std::string_view bytes);
  // Writes the separator and `json` (one or more records of `source_id`),
  // and extends the document's range over them.
  Status WriteRecords(const std::string& source_id, std::string_view json, uint32_t count);

  AtomicFileWriter file_;  // hashes every byte written
  Pass pass_;
  ArtifactScan scan_;
  ArtifactIndex index_;  // scan_'s, while it is written
  std::string last_source_id_;
  std::string line_;  // reused: one record's JSON
};

// Reads an artifact once: checks the layout, parses every record strictly,
// validates it and the sort order, hashes the bytes and indexes ranges by
// source_id. `visit` (optional) sees each parsed record. Errors name the file
// and the line.
Result<ArtifactScan> ScanArtifact(const std::filesystem::path& path, Pass pass,
                                  const std::function<Status(const google::protobuf::Message&)>& visit = nullptr);

// Reads the records in `range` into the field of `batch` that belongs to `pass`.
Status ReadRecords(const std::filesystem::path& path, Pass pass, const RecordRange& range, RecordBatch* batch);

// Appends a record of `pass` to the matching field of `batch`.
void AddToBatch(Pass pass, const google::protobuf::Message& record, RecordBatch* batch);
// Clears every field of `batch` but the records of `pass`.
void KeepOnlyRecords(Pass pass, RecordBatch* batch);
// The records of `pass` held by `batch`.
int BatchSize(Pass pass, const RecordBatch& batch);
const google::protobuf::Message& BatchRecord(Pass pass, const RecordBatch& batch, int i);

}  // namespace ingest
