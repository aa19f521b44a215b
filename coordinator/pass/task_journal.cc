#include "coordinator/pass/task_journal.h"

#include <fcntl.h>
#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>
#include <google/protobuf/wire_format_lite.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <optional>

#include "common/atomic_file.h"
#include "common/crash_point.h"
#include "common/pass.h"
#include "common/positional_io.h"
#include "common/sha256.h"

namespace ingest {
namespace {

constexpr std::string_view kMagic = "IFJRNL2\n";
// A frame: payload length and the payload's CRC-32 (4 bytes each, little
// endian), the payload (a JournalEntry). A checksum, not a digest: it finds
// torn and damaged entries, at a third of sha256's cost per byte.
constexpr size_t kCheckBytes = 4;
constexpr size_t kFrameHeader = 4 + kCheckBytes;
constexpr uint32_t kMaxEntryBytes = 1u << 30;
// Batched writes and fsyncs: often enough that a crash costs little
// rework, rarely enough that thousands of small results do not wait on the
// disk.
constexpr size_t kWriteBytes = 256 << 10;
constexpr uint32_t kSyncEveryEntries = 1024;
constexpr auto kSyncEvery = std::chrono::milliseconds(250);
constexpr uint64_t kReadWindow = 1 << 20;
constexpr uint64_t kReadAhead = 4 << 20;

uint32_t Crc32(std::string_view payload) {
  return static_cast<uint32_t>(::crc32(::crc32(0, nullptr, 0), reinterpret_cast<const Bytef*>(payload.data()),
                                       static_cast<uInt>(payload.size())));
}

// Whether `frame` (its header and payload) holds the payload's checksum.
bool ChecksumHolds(std::string_view frame) {
  uint32_t stored = 0;
  std::memcpy(&stored, frame.data() + 4, kCheckBytes);  // written little endian on the same host
  return stored == Crc32(frame.substr(kFrameHeader));
}

// The task id and digest of a serialized JournalEntry, read from its first
// two fields (protobuf writes fields in number order) without parsing the
// result: the index of a journal needs nothing else. Parses the whole entry
// when they are not where they should be (an empty id or digest).
std::optional<TaskJournal::Indexed> EntryHead(std::string_view payload, JournalLocation at, std::string* task_id) {
  google::protobuf::io::CodedInputStream in(reinterpret_cast<const uint8_t*>(payload.data()),
                                            static_cast<int>(payload.size()));
  constexpr uint32_t kTaskIdTag = (JournalEntry::kTaskIdFieldNumber << 3) | 2;  // length-delimited
  constexpr uint32_t kDigestTag = (JournalEntry::kTaskDigestFieldNumber << 3) | 2;
  TaskJournal::Indexed indexed{.at = at};
  uint32_t length = 0;
  if (in.ReadTag() == kTaskIdTag && in.ReadVarint32(&length) && in.ReadString(task_id, static_cast<int>(length)) &&
      in.ReadTag() == kDigestTag && in.ReadVarint32(&length) &&
      in.ReadString(&indexed.digest, static_cast<int>(length))) {
    return indexed;
  }
  JournalEntry entry;
  if (!entry.ParseFromArray(payload.data(), static_cast<int>(payload.size()))) return std::nullopt;
  *task_id = entry.task_id();
  indexed.digest = entry.task_digest();
  return indexed;
}

}  // namespace

std::filesystem::path JournalPath(const std::filesystem::path& job_dir, Pass pass) {
  return job_dir / "journal" / ("pass" + PassLetter(pass) + ".journal");
}

std::string TaskDigest(const Task& task, std::string_view inputs) {
  // A planned task has attempt 0; a copy (the task may carry thousands of
  // upstream records) only for one that was retried.
  std::optional<Task> copy;
  if (task.attempt() != 0) {
    copy.emplace(task);
    copy->clear_attempt();
  }
  // Another release may compute other results from the same task.
  std::string bytes = "ingestfleet " INGEST_VERSION "\n";
  {
    google::protobuf::io::StringOutputStream stream(&bytes);
    google::protobuf::io::CodedOutputStream coded(&stream);
    coded.SetSerializationDeterministic(true);
    (copy ? *copy : task).SerializeToCodedStream(&coded);
  }
  bytes += "\ninputs ";
  bytes += inputs;
  return Sha256Hex(bytes);
}

TaskJournal::TaskJournal(std::filesystem::path path, int fd) : path_(std::move(path)), fd_(fd) {}

TaskJournal::TaskJournal(TaskJournal&& other) noexcept
    : path_(std::move(other.path_)),
      fd_(other.fd_),
      end_(other.end_),
      pending_(std::move(other.pending_)),
      window_(std::move(other.window_)),
      window_start_(other.window_start_),
      earlier_(std::move(other.earlier_)),
      discarded_bytes_(other.discarded_bytes_),
      read_only_(other.read_only_),
      unsynced_(other.unsynced_),
      first_unsynced_(other.first_unsynced_),
      syncer_(std::move(other.syncer_)) {
  other.fd_ = -1;
}

TaskJournal::~TaskJournal() {
  if (fd_ >= 0 && !pending_.empty()) (void)Flush();
  syncer_.reset();
  if (fd_ >= 0) ::close(fd_);
}

Result<std::string_view> TaskJournal::View(uint64_t offset, uint64_t size, bool in_order) const {
  if (offset + size > end_ - pending_.size()) INGEST_RETURN_IF_ERROR(Flush());
  if (offset < window_start_ || offset + size > window_start_ + window_.size()) {
    // Indexing reads the file in order, and so, roughly, do the merge and
    // the next pass (results land about in merge order): a read just ahead
    // of the last one takes a megabyte, any other what it needs.
    const bool ahead = offset >= window_start_ && offset < window_start_ + window_.size() + kReadAhead;
    window_start_ = offset;
    window_.resize(in_order || ahead ? std::max<uint64_t>(size, kReadWindow) : size);
    INGEST_ASSIGN_OR_RETURN(uint64_t read, ReadUpTo(fd_, &window_, offset, path_));
    window_.resize(read);
    if (read < size) return std::string_view();
  }
  return std::string_view(window_).substr(offset - window_start_, size);
}

Result<TaskJournal> TaskJournal::Open(const std::filesystem::path& path, bool fresh) {
  // A journal carried forward is a hard link to the previous job's, which
  // must keep its bytes.
  INGEST_RETURN_IF_ERROR(UnshareFile(path, !fresh));
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | (fresh ? O_TRUNC : 0), 0644);
  if (fd < 0) return ErrnoStatus(errno, path.string());
  TaskJournal journal(path, fd);
  INGEST_RETURN_IF_ERROR(journal.Recover());
  return journal;
}

Result<TaskJournal> TaskJournal::OpenReadOnly(const std::filesystem::path& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return ErrnoStatus(errno, path.string());
  TaskJournal journal(path, fd);
  journal.read_only_ = true;
  INGEST_RETURN_IF_ERROR(journal.Recover());
  return journal;
}

Status TaskJournal::Recover() {
  struct stat st {};
  if (::fstat(fd_, &st) != 0) return ErrnoStatus(errno, path_.string());
  const uint64_t size = static_cast<uint64_t>(st.st_size);
  std::string magic(kMagic.size(), '\0');
  INGEST_ASSIGN_OR_RETURN(bool whole, ReadAt(fd_, &magic, 0, path_));
  uint64_t good = 0;
  if (whole && magic == kMagic) {
    good = kMagic.size();
    while (good + kFrameHeader <= size) {
      INGEST_ASSIGN_OR_RETURN(std::string_view header, View(good, kFrameHeader, true));
      if (header.empty()) break;
      uint32_t length = 0;
      std::memcpy(&length, header.data(), 4);  // written little endian on the same host
      if (length > kMaxEntryBytes || good + kFrameHeader + length > size) break;
      INGEST_ASSIGN_OR_RETURN(std::string_view frame, View(good, kFrameHeader + length, true));
      if (frame.size() != kFrameHeader + length) break;
      const std::string_view payload = frame.substr(kFrameHeader);
      if (!ChecksumHolds(frame)) break;
      std::string task_id;
      std::optional<Indexed> indexed = EntryHead(payload, JournalLocation{good + kFrameHeader, length}, &task_id);
      if (!indexed) break;
      earlier_[std::move(task_id)] = std::move(*indexed);
      good += kFrameHeader + length;
    }
  }
  if (read_only_) {
    discarded_bytes_ = size - std::min(good, size);
    return Status::Ok();
  }
  if (good == 0) {
    // Empty, foreign or a torn magic: start over.
    INGEST_RETURN_IF_ERROR(WriteAt(fd_, kMagic, 0, path_));
    good = kMagic.size();
  }
  if (good < size) {
    discarded_bytes_ = size - good;
    window_.clear();  // holds what is cut off
    if (::ftruncate(fd_, static_cast<off_t>(good)) != 0) return ErrnoStatus(errno, path_.string());
  }
  end_ = good;
  return Sync();
}

std::optional<JournalLocation> TaskJournal::Earlier(const std::string& task_id) const {
  auto it = earlier_.find(task_id);
  if (it == earlier_.end()) return std::nullopt;
  return it->second.at;
}

Result<JournalLocation> TaskJournal::Append(const JournalEntry& entry) {
  const size_t size = entry.ByteSizeLong();
  if (size > kMaxEntryBytes) {
    return ResourceExhausted(path_.string() + ": result of " + entry.task_id() + " is over 1 GiB");
  }
  if (read_only_) return FailedPrecondition(path_.string() + ": opened read-only");
  // Serialized straight into the write buffer, framed in place: a result
  // is copied once on its way to the file, into memory already mapped.
  const size_t start = pending_.size();
  pending_.resize(start + kFrameHeader + size);
  char* frame = pending_.data() + start;
  entry.SerializeWithCachedSizesToArray(reinterpret_cast<uint8_t*>(frame + kFrameHeader));
  const auto length = static_cast<uint32_t>(size);
  const uint32_t crc = Crc32(std::string_view(frame + kFrameHeader, size));
  std::memcpy(frame, &length, 4);  // little endian on the same host
  std::memcpy(frame + 4, &crc, kCheckBytes);
  return Appended(kFrameHeader + size);
}

Result<JournalLocation> TaskJournal::AppendFrame(std::string_view frame) {
  if (read_only_) return FailedPrecondition(path_.string() + ": opened read-only");
  pending_.append(frame);
  return Appended(frame.size());
}

Result<JournalLocation> TaskJournal::Appended(size_t frame_size) {
  JournalLocation at{end_ + kFrameHeader, static_cast<uint32_t>(frame_size - kFrameHeader)};
  end_ += frame_size;
  if (pending_.size() >= kWriteBytes) INGEST_RETURN_IF_ERROR(Flush());
  const auto now = std::chrono::steady_clock::now();
  if (unsynced_++ == 0) first_unsynced_ = now;
  if (unsynced_ >= kSyncEveryEntries || now - first_unsynced_ >= kSyncEvery) INGEST_RETURN_IF_ERROR(StartSync());
  CrashPoint("journal_append");
  return at;
}

Status TaskJournal::StartSync() {
  INGEST_RETURN_IF_ERROR(Flush());
  if (syncer_) INGEST_RETURN_IF_ERROR(syncer_->error());
  if (unsynced_ == 0) return Status::Ok();  // nothing since the last request
  if (!syncer_) syncer_ = std::make_unique<FileSyncer>(fd_, path_);
  // Covers every entry appended so far: each was flushed before this.
  syncer_->Request();
  unsynced_ = 0;
  return Status::Ok();
}

Status TaskJournal::Flush() const {
  if (pending_.empty()) return Status::Ok();
  INGEST_RETURN_IF_ERROR(WriteAt(fd_, pending_, end_ - pending_.size(), path_));
  pending_.clear();
  return Status::Ok();
}

Result<JournalEntry> TaskJournal::Read(JournalLocation at) const {
  INGEST_ASSIGN_OR_RETURN(std::string_view payload, View(at.offset, at.size));
  JournalEntry entry;
  if (payload.size() != at.size || !entry.ParseFromArray(payload.data(), static_cast<int>(payload.size()))) {
    return DataLoss(path_.string() + ": entry at offset " + std::to_string(at.offset) + " is damaged");
  }
  return entry;
}

Result<TaskJournal::ResultView> TaskJournal::ReadView(JournalLocation at) const {
  INGEST_ASSIGN_OR_RETURN(std::string_view frame, View(at.offset - kFrameHeader, kFrameHeader + at.size));
  const auto damaged = [&](const std::string& what) {
    return DataLoss(path_.string() + ": entry at offset " + std::to_string(at.offset) + " " + what);
  };
  if (frame.size() != kFrameHeader + at.size) return damaged("is damaged");
  ResultView view{.frame = frame};
  const std::string_view payload = frame.substr(kFrameHeader);
  using google::protobuf::internal::WireFormatLite;
  constexpr auto kBytes = WireFormatLite::WIRETYPE_LENGTH_DELIMITED;
  constexpr auto kTag = [](int number, WireFormatLite::WireType type) {
    return static_cast<uint32_t>(number) << 3 | static_cast<uint32_t>(type);
  };
  google::protobuf::io::CodedInputStream entry(reinterpret_cast<const uint8_t*>(payload.data()),
                                               static_cast<int>(payload.size()));
  // A length-delimited field's bytes, straight from the payload: a view.
  const auto bytes = [&](std::string_view* out) {
    uint32_t size = 0;
    const void* data = nullptr;
    int available = 0;
    if (!entry.ReadVarint32(&size)) return false;
    if (size == 0) return true;  // e.g. an empty message last, where no buffer is left
    if (!entry.GetDirectBufferPointer(&data, &available) || available < static_cast<int>(size)) return false;
    *out = std::string_view(static_cast<const char*>(data), size);
    return entry.Skip(static_cast<int>(size));
  };
  bool found = false;
  for (uint32_t tag = entry.ReadTag(); tag != 0; tag = entry.ReadTag()) {
    // By field number and wire type: a field of a known number sent with
    // another type is an unknown field to protobuf, and skipped here too.
    if (tag != kTag(JournalEntry::kResultFieldNumber, kBytes)) {
      if (!WireFormatLite::SkipField(&entry, tag)) return damaged("is damaged");
      continue;
    }
    uint32_t length = 0;
    if (!entry.ReadVarint32(&length)) return damaged("is damaged");
    const auto limit = entry.PushLimit(static_cast<int>(length));
    for (uint32_t field = entry.ReadTag(); field != 0; field = entry.ReadTag()) {
      bool ok = true;
      switch (field) {
        case kTag(TaskResult::kErrorFieldNumber, kBytes):
          view.has_error = true;
          ok = WireFormatLite::SkipField(&entry, field);
          break;
        case kTag(TaskResult::kRecordBytesFieldNumber, kBytes):
          ok = bytes(&view.record_bytes);
          break;
        case kTag(TaskResult::kArtifactJsonFieldNumber, kBytes):
          ok = bytes(&view.artifact_json);
          break;
        case kTag(TaskResult::kTotalsFieldNumber, kBytes):
          ok = bytes(&view.totals);
          break;
        case kTag(TaskResult::kSharedFieldNumber, kBytes):
          ok = bytes(&view.shared.emplace_back());
          break;
        case kTag(TaskResult::kRecordCountFieldNumber, WireFormatLite::WIRETYPE_VARINT):
          ok = entry.ReadVarint32(&view.record_count);
          break;
        default:
          ok = WireFormatLite::SkipField(&entry, field);
      }
      if (!ok) return damaged("is damaged");
    }
    if (!entry.ConsumedEntireMessage()) return damaged("is damaged");
    entry.PopLimit(limit);
    found = true;
  }
  if (!found) return damaged("has no result");
  return view;
}

Status TaskJournal::ReadRecords(JournalLocation at, std::string* records, uint32_t* count) const {
  INGEST_ASSIGN_OR_RETURN(ResultView view, ReadView(at));
  if (view.has_error) {
    return DataLoss(path_.string() + ": entry at offset " + std::to_string(at.offset) + " holds an error, not records");
  }
  records->append(view.record_bytes);
  *count += view.record_count;
  return Status::Ok();
}

Status TaskJournal::Sync() {
  INGEST_RETURN_IF_ERROR(Flush());
  // A batch's failed fsync fails this one too (see FileSyncer::error).
  if (syncer_) {
    INGEST_RETURN_IF_ERROR(syncer_->Wait());
    if (unsynced_ == 0) return Status::Ok();  // the syncer's last sync covered it all
  }
  if (::fdatasync(fd_) != 0) return ErrnoStatus(errno, path_.string());
  unsynced_ = 0;
  return Status::Ok();
}

void TaskJournal::Remove() {
  pending_.clear();
  syncer_.reset();
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
  ::unlink(path_.c_str());
}

}  // namespace ingest
