#include "common/artifact.h"

#include <sys/stat.h>

#include <algorithm>
#include <cstring>
#include <fstream>

#include "common/pass.h"
#include "common/proto_json.h"

namespace ingest {

using google::protobuf::Message;

std::unique_ptr<Message> NewRecord(Pass pass) { return std::unique_ptr<Message>(Describe(pass).record->New()); }

Status ValidateRecord(Pass pass, const Message& record) { return Describe(pass).validate(record); }

const std::string& RecordSourceId(Pass pass, const Message& record) { return Describe(pass).source_id(record); }

void AddToBatch(Pass pass, const Message& record, RecordBatch* batch) {
  const PassInfo& info = Describe(pass);
  INGEST_CHECK(info.batch_field != nullptr);
  batch->GetReflection()->AddMessage(batch, info.batch_field)->CopyFrom(record);
}

void KeepOnlyRecords(Pass pass, RecordBatch* batch) {
  const PassInfo& info = Describe(pass);
  std::vector<const google::protobuf::FieldDescriptor*> fields;
  batch->GetReflection()->ListFields(*batch, &fields);
  for (const google::protobuf::FieldDescriptor* field : fields) {
    if (field != info.batch_field) batch->GetReflection()->ClearField(batch, field);
  }
}

int BatchSize(Pass pass, const RecordBatch& batch) {
  const PassInfo& info = Describe(pass);
  return info.batch_field == nullptr ? 0 : batch.GetReflection()->FieldSize(batch, info.batch_field);
}

const Message& BatchRecord(Pass pass, const RecordBatch& batch, int i) {
  const PassInfo& info = Describe(pass);
  INGEST_CHECK(info.batch_field != nullptr);
  return batch.GetReflection()->GetRepeatedMessage(batch, info.batch_field, i);
}

ArtifactWriter::ArtifactWriter(AtomicFileWriter file, Pass pass) : file_(std::move(file)), pass_(pass) {}

Result<ArtifactWriter> ArtifactWriter::Open(const std::filesystem::path& path, Pass pass) {
  // Nothing reads an artifact back in the run that writes it (the gate
  // trusts the hash made while writing, ArtifactScan::written).
  INGEST_ASSIGN_OR_RETURN(AtomicFileWriter file, AtomicFileWriter::Open(path, AtomicFileWriter::Caching::kBypass,
                                                                        AtomicFileWriter::Hashing::kSha256));
  ArtifactWriter writer(std::move(file), pass);
  INGEST_RETURN_IF_ERROR(writer.Write("["));
  return writer;
}

Status ArtifactWriter::Write(std::string_view bytes) {
  scan_.bytes += bytes.size();
  return file_.Append(bytes);
}

Status ArtifactWriter::Add(const Message& record) {
  if (Status valid = ValidateRecord(pass_, record); !valid.ok()) {
    return valid.WithContext(file_.path().filename().string() + " record " + std::to_string(scan_.records + 1));
  }
  line_.clear();
  AppendJson(record, &line_);
  return WriteRecords(RecordSourceId(pass_, record), line_, 1);
}

Status ArtifactWriter::AddRendered(const std::string& source_id, std::string_view json, uint32_t count) {
  if (count == 0 && json.empty()) return Status::Ok();
  // One record a line: its newlines are escaped, so lines count records.
  // memchr from one to the next: a record is hundreds of bytes, which
  // memchr crosses several times faster than a byte-by-byte count.
  uint32_t lines = 1;
  const char* end = json.data() + json.size();
  for (const char* at = json.data(); (at = static_cast<const char*>(std::memchr(at, '\n', end - at))) != nullptr;
       ++at) {
    ++lines;
  }
  if (count == 0 || lines != count || json.front() != '{' || json.back() != '}') {
    return DataLoss(file_.path().filename().string() + ": the records of " + source_id + " are not " +
                    std::to_string(count) + " rendered records (" + std::to_string(lines) + " lines)");
  }
  return WriteRecords(source_id, json, count);
}

Status ArtifactWriter::WriteRecords(const std::string& source_id, std::string_view json, uint32_t count) {
  if (source_id < last_source_id_) {
    return Internal(file_.path().filename().string() + ": records out of order (" + source_id + " after " +
                    last_source_id_ + ")");
  }
  const std::string_view separator = scan_.records == 0 ? "\n" : ",\n";
  INGEST_RETURN_IF_ERROR(Write(separator));
  const uint64_t json_offset = scan_.bytes;
  INGEST_RETURN_IF_ERROR(Write(json));
  // The same range ScanArtifact gives: from the first record's '{' to the
  // last one's '}', without the separators around them.
  RecordRange& range = index_.Extend(source_id);
  if (range.records == 0) range.offset = json_offset;
  last_source_id_ = source_id;
  range.length = scan_.bytes - range.offset;
  range.records += count;
  scan_.records += count;
  return Status::Ok();
}

ArtifactScan ArtifactWriter::TakeScan() {
  index_.ShrinkToFit();
  scan_.index = std::make_shared<const ArtifactIndex>(std::move(index_));
  return std::move(scan_);
}

RecordRange& ArtifactIndex::Extend(std::string_view source_id) {
  const size_t at = ids_.Extend(source_id);
  if (at == ranges_.size()) ranges_.emplace_back();
  return ranges_[at];
}

const RecordRange* ArtifactIndex::Find(std::string_view source_id) const {
  const std::optional<size_t> at = ids_.Find(source_id);
  return at ? &ranges_[*at] : nullptr;
}

Result<FileIdentity> IdentifyFile(const std::filesystem::path& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return ErrnoStatus(errno, path.string());
  constexpr int64_t kNanos = 1000000000;
  return FileIdentity{.device = static_cast<uint64_t>(st.st_dev),
                      .inode = static_cast<uint64_t>(st.st_ino),
                      .size = static_cast<uint64_t>(st.st_size),
                      .modified_ns = st.st_mtim.tv_sec * kNanos + st.st_mtim.tv_nsec,
                      .changed_ns = st.st_ctim.tv_sec * kNanos + st.st_ctim.tv_nsec};
}

FileStamp StampOf(const FileIdentity& identity) {
  FileStamp stamp;
  stamp.set_inode(identity.inode);
  stamp.set_modified_ns(identity.modified_ns);
  return stamp;
}

bool MatchesStamp(const std::filesystem::path& path, const ArtifactRecord& record) {
  if (!record.has_stamp()) return false;
  Result<FileIdentity> now = IdentifyFile(path);
  return now.ok() && now->size == record.bytes() && now->inode == record.stamp().inode() &&
         now->modified_ns == record.stamp().modified_ns();
}

Result<ArtifactRecord> ArtifactWriter::Commit() {
  INGEST_RETURN_IF_ERROR(Write("\n]\n"));
  INGEST_RETURN_IF_ERROR(file_.Commit());
  INGEST_ASSIGN_OR_RETURN(scan_.written, IdentifyFile(file_.path()));
  scan_.sha256 = file_.sha256();
  ArtifactRecord record;
  record.set_path(file_.path().filename().string());
  record.set_sha256(scan_.sha256);
  record.set_bytes(scan_.bytes);
  record.set_records(static_cast<uint32_t>(scan_.records));
  *record.mutable_stamp() = StampOf(*scan_.written);
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
  ArtifactIndex index;
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
    const std::string& source_id = RecordSourceId(pass, *record);
    if (source_id < last_source_id) return fail(line_no, "records out of order");
    RecordRange& range = index.Extend(source_id);
    if (range.records == 0) range.offset = line_offset;
    range.length = line_offset + json.size() - range.offset;
    ++range.records;
    last_source_id = source_id;
    ++scan.records;
    if (visit) INGEST_RETURN_IF_ERROR(visit(*record).WithContext(name + " line " + std::to_string(line_no)));
  }
  if (in.bad()) return ErrnoStatus(errno, path.string());
  if (line_no == 0) return InvalidArgument(name + ": empty file");
  if (!closed) return InvalidArgument(name + ": truncated, no closing ']'");
  scan.sha256 = hash.HexDigest();
  scan.bytes = offset;
  index.ShrinkToFit();
  scan.index = std::make_shared<const ArtifactIndex>(std::move(index));
  return scan;
}

Status ReadRecords(const std::filesystem::path& path, Pass pass, const RecordRange& range, RecordBatch* batch) {
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
