#include "coordinator/pass/task_journal.h"

#include <fcntl.h>
#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <optional>

#include "common/atomic_file.h"
#include "common/pass.h"
#include "common/positional_io.h"
#include "common/sha256.h"

namespace ingest {
namespace {

constexpr std::string_view kMagic = "IFJRNL1\n";
// A frame: payload length (4 bytes, little endian), the first 16 hex digits
// of the payload's sha256, the payload (a JournalEntry).
constexpr size_t kCheckBytes = 16;
constexpr size_t kFrameHeader = 4 + kCheckBytes;
constexpr uint32_t kMaxEntryBytes = 1u << 30;
// Batched fsync: often enough that a crash costs little rework, rarely
// enough that thousands of small results do not wait on the disk.
constexpr uint32_t kSyncEveryEntries = 64;
constexpr auto kSyncEvery = std::chrono::milliseconds(250);

constexpr size_t kRecoverBlock = 1 << 20;

std::string Check(std::string_view payload) { return Sha256Hex(payload).substr(0, kCheckBytes); }

// The task id of a serialized JournalEntry, read from its first field
// (task_id is field 1, and protobuf writes fields in number order) without
// parsing the result: the index of a journal needs nothing else. Parses the
// whole entry when the first field is something else (an empty task id).
std::optional<std::string> EntryTaskId(std::string_view payload) {
  google::protobuf::io::CodedInputStream in(reinterpret_cast<const uint8_t*>(payload.data()),
                                            static_cast<int>(payload.size()));
  constexpr uint32_t kTaskIdTag = (JournalEntry::kTaskIdFieldNumber << 3) | 2;  // length-delimited
  std::string id;
  uint32_t length = 0;
  if (in.ReadTag() == kTaskIdTag && in.ReadVarint32(&length) && in.ReadString(&id, static_cast<int>(length))) {
    return id;
  }
  JournalEntry entry;
  if (!entry.ParseFromArray(payload.data(), static_cast<int>(payload.size()))) return std::nullopt;
  return entry.task_id();
}

// The frame of `payload` with its length and checksum in front.
std::string Frame(std::string_view payload) {
  const auto length = static_cast<uint32_t>(payload.size());
  std::string frame(4, '\0');
  std::memcpy(frame.data(), &length, 4);
  frame.reserve(kFrameHeader + payload.size());
  frame += Check(payload);
  frame += payload;
  return frame;
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
      earlier_(std::move(other.earlier_)),
      discarded_bytes_(other.discarded_bytes_),
      read_only_(other.read_only_),
      unsynced_(other.unsynced_),
      first_unsynced_(other.first_unsynced_) {
  other.fd_ = -1;
}

TaskJournal::~TaskJournal() {
  if (fd_ >= 0) ::close(fd_);
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
    // Read in large blocks, not a read per entry: a journal holds one entry
    // per task, tens of thousands of them.
    std::string block;
    uint64_t block_start = good;
    // `bytes` from `offset`, empty when the file ends first.
    const auto view = [&](uint64_t offset, size_t bytes) -> Result<std::string_view> {
      if (offset < block_start || offset + bytes > block_start + block.size()) {
        block_start = offset;
        block.resize(std::min<uint64_t>(std::max(bytes, kRecoverBlock), size - offset));
        INGEST_ASSIGN_OR_RETURN(bool complete, ReadAt(fd_, &block, offset, path_));
        if (!complete || block.size() < bytes) return std::string_view();
      }
      return std::string_view(block).substr(offset - block_start, bytes);
    };
    while (good + kFrameHeader <= size) {
      INGEST_ASSIGN_OR_RETURN(std::string_view header, view(good, kFrameHeader));
      if (header.empty()) break;
      uint32_t length = 0;
      std::memcpy(&length, header.data(), 4);  // written little endian on the same host
      if (length > kMaxEntryBytes || good + kFrameHeader + length > size) break;
      INGEST_ASSIGN_OR_RETURN(std::string_view frame, view(good, kFrameHeader + length));
      if (frame.size() != kFrameHeader + length) break;
      const std::string_view payload = frame.substr(kFrameHeader);
      if (frame.substr(4, kCheckBytes) != Check(payload)) break;
      std::optional<std::string> task_id = EntryTaskId(payload);
      if (!task_id) break;
      earlier_[std::move(*task_id)] = JournalLocation{good + kFrameHeader, length};
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
    if (::ftruncate(fd_, static_cast<off_t>(good)) != 0) return ErrnoStatus(errno, path_.string());
  }
  end_ = good;
  return Sync();
}

std::optional<JournalLocation> TaskJournal::Earlier(const std::string& task_id) const {
  auto it = earlier_.find(task_id);
  if (it == earlier_.end()) return std::nullopt;
  return it->second;
}

Result<JournalLocation> TaskJournal::Append(const JournalEntry& entry) {
  std::string payload = entry.SerializeAsString();
  if (payload.size() > kMaxEntryBytes) {
    return ResourceExhausted(path_.string() + ": result of " + entry.task_id() + " is over 1 GiB");
  }
  return AppendFrame(Frame(payload));
}

Result<JournalLocation> TaskJournal::Append(const Framed& framed) { return AppendFrame(framed.frame); }

Result<JournalLocation> TaskJournal::AppendFrame(std::string_view frame) {
  if (read_only_) return FailedPrecondition(path_.string() + ": opened read-only");
  INGEST_RETURN_IF_ERROR(WriteAt(fd_, frame, end_, path_));
  JournalLocation at{end_ + kFrameHeader, static_cast<uint32_t>(frame.size() - kFrameHeader)};
  end_ += frame.size();
  const auto now = std::chrono::steady_clock::now();
  if (unsynced_++ == 0) first_unsynced_ = now;
  if (unsynced_ >= kSyncEveryEntries || now - first_unsynced_ >= kSyncEvery) INGEST_RETURN_IF_ERROR(Sync());
  return at;
}

Result<JournalEntry> TaskJournal::Read(JournalLocation at) const {
  std::string payload(at.size, '\0');
  INGEST_ASSIGN_OR_RETURN(bool complete, ReadAt(fd_, &payload, at.offset, path_));
  JournalEntry entry;
  if (!complete || !entry.ParseFromString(payload)) {
    return DataLoss(path_.string() + ": entry at offset " + std::to_string(at.offset) + " is damaged");
  }
  return entry;
}

Result<TaskJournal::Framed> TaskJournal::ReadFramed(JournalLocation at) const {
  Framed framed;
  framed.frame.resize(kFrameHeader + at.size);
  INGEST_ASSIGN_OR_RETURN(bool complete, ReadAt(fd_, &framed.frame, at.offset - kFrameHeader, path_));
  const std::string_view frame = framed.frame;
  const std::string_view payload = frame.substr(kFrameHeader);
  if (!complete || frame.substr(4, kCheckBytes) != Check(payload) ||
      !framed.entry.ParseFromArray(payload.data(), static_cast<int>(payload.size()))) {
    return DataLoss(path_.string() + ": entry at offset " + std::to_string(at.offset) + " is damaged");
  }
  return framed;
}

Status TaskJournal::Sync() {
  if (::fdatasync(fd_) != 0) return ErrnoStatus(errno, path_.string());
  unsynced_ = 0;
  return Status::Ok();
}

void TaskJournal::Remove() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
  ::unlink(path_.c_str());
}

}  // namespace ingest
