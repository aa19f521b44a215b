#include "coordinator/pass/task_journal.h"

#include <fcntl.h>
#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>
#include <google/protobuf/wire_format_lite.h>
#include <isa-l/crc.h>
#include <sys/stat.h>
#include <unistd.h>

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

// Version 3 may hold references and segment declarations (JournalEntry's ref
// and segment), which a release that reads version 2 would take for results
// without records: it starts such a file over instead. Version 2 is read.
constexpr std::string_view kMagic = "IFJRNL3\n";
constexpr std::string_view kMagicV2 = "IFJRNL2\n";
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
constexpr uint64_t kReadWindow = 256 << 10;
constexpr uint64_t kReadAhead = 4 << 20;

// zlib's CRC-32 (the journal format's checksum), computed by ISA-L: 12.7
// GB/s on this machine against zlib's 3.7 GB/s, and every byte of every
// result goes through it on the thread that takes results in.
uint32_t Crc32(std::string_view payload) {
  return crc32_gzip_refl(0, reinterpret_cast<const unsigned char*>(payload.data()), payload.size());
}

// Whether `frame` (its header and payload) holds the payload's checksum.
bool ChecksumHolds(std::string_view frame) {
  uint32_t stored = 0;
  std::memcpy(&stored, frame.data() + 4, kCheckBytes);  // written little endian on the same host
  return stored == Crc32(frame.substr(kFrameHeader));
}

using google::protobuf::internal::WireFormatLite;

constexpr uint32_t Tag(int number, WireFormatLite::WireType type) {
  return static_cast<uint32_t>(number) << 3 | static_cast<uint32_t>(type);
}
constexpr auto kBytes = WireFormatLite::WIRETYPE_LENGTH_DELIMITED;
constexpr uint32_t kSegmentTag = Tag(JournalEntry::kSegmentFieldNumber, kBytes);

// Where a parsed entry's result is, and whether it is an error.
TaskJournal::Indexed HeadOf(const JournalEntry& entry, JournalLocation at) {
  TaskJournal::Indexed indexed{.at = at, .digest = entry.task_digest(), .failed = entry.result().has_error()};
  if (entry.has_ref()) {
    indexed.at = JournalLocation{entry.ref().offset(), entry.ref().size(), entry.ref().segment()};
  }
  return indexed;
}

// The task id and digest of a serialized JournalEntry, where its result is
// (here, or in a segment for a reference) and whether it is an error, read
// from its first fields (protobuf writes fields in number order, and
// TaskResult's error follows only its task id and attempt) without parsing
// the result: the index of a journal needs nothing else. Parses the whole
// entry when they are not where they should be (an empty id or digest).
std::optional<TaskJournal::Indexed> EntryHead(std::string_view payload, JournalLocation at, std::string* task_id) {
  google::protobuf::io::CodedInputStream in(reinterpret_cast<const uint8_t*>(payload.data()),
                                            static_cast<int>(payload.size()));
  TaskJournal::Indexed indexed{.at = at};
  uint32_t length = 0;
  if (in.ReadTag() == Tag(JournalEntry::kTaskIdFieldNumber, kBytes) && in.ReadVarint32(&length) &&
      in.ReadString(task_id, static_cast<int>(length)) &&
      in.ReadTag() == Tag(JournalEntry::kTaskDigestFieldNumber, kBytes) && in.ReadVarint32(&length) &&
      in.ReadString(&indexed.digest, static_cast<int>(length))) {
    const uint32_t next = in.ReadTag();
    if (next == Tag(JournalEntry::kResultFieldNumber, kBytes) && in.ReadVarint32(&length)) {
      const auto limit = in.PushLimit(static_cast<int>(length));
      for (uint32_t field = in.ReadTag(); field != 0; field = in.ReadTag()) {
        const int number = WireFormatLite::GetTagFieldNumber(field);
        if (number == TaskResult::kErrorFieldNumber) indexed.failed = true;
        if (number >= TaskResult::kErrorFieldNumber || !WireFormatLite::SkipField(&in, field)) break;
      }
      in.PopLimit(limit);
      return indexed;
    }
    if (next == Tag(JournalEntry::kRefFieldNumber, kBytes) && in.ReadVarint32(&length)) {
      std::string bytes;
      JournalRef ref;
      if (!in.ReadString(&bytes, static_cast<int>(length)) || !ref.ParseFromString(bytes)) return std::nullopt;
      indexed.at = JournalLocation{ref.offset(), ref.size(), ref.segment()};
      return indexed;
    }
  }
  JournalEntry entry;
  if (!entry.ParseFromArray(payload.data(), static_cast<int>(payload.size()))) return std::nullopt;
  *task_id = entry.task_id();
  return HeadOf(entry, at);
}

// A segment's name beside the journals that reference it: the journal's
// stem and the job that wrote it ("passC.job_2026-12-07T07-58-32.segment"),
// unique along a chain of jobs.
std::string SegmentName(const std::filesystem::path& journal) {
  return journal.stem().string() + "." + journal.parent_path().parent_path().filename().string() + ".segment";
}

// The segments beside `journal` that it may reference.
std::vector<std::filesystem::path> SegmentsBeside(const std::filesystem::path& journal) {
  std::vector<std::filesystem::path> found;
  const std::string prefix = journal.stem().string() + ".";
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(journal.parent_path(), ec)) {
    const std::string name = entry.path().filename().string();
    if (name.starts_with(prefix) && name.ends_with(".segment")) found.push_back(entry.path());
  }
  std::sort(found.begin(), found.end());
  return found;
}

}  // namespace

std::filesystem::path JournalPath(const std::filesystem::path& job_dir, Pass pass) {
  return job_dir / "journal" / ("pass" + PassLetter(pass) + ".journal");
}

Status LinkJournal(const std::filesystem::path& from, const std::filesystem::path& to) {
  INGEST_RETURN_IF_ERROR(LinkOrCopyFile(from, to, /*sync_directory=*/false));
  for (const std::filesystem::path& segment : SegmentsBeside(from)) {
    INGEST_RETURN_IF_ERROR(LinkOrCopyFile(segment, to.parent_path() / segment.filename(), /*sync_directory=*/false));
  }
  return Status::Ok();
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
      windows_(std::move(other.windows_)),
      segments_(std::move(other.segments_)),
      earlier_(std::move(other.earlier_)),
      discarded_bytes_(other.discarded_bytes_),
      dropped_references_(other.dropped_references_),
      directory_unsynced_(other.directory_unsynced_),
      read_only_(other.read_only_),
      unsynced_(other.unsynced_),
      first_unsynced_(other.first_unsynced_),
      syncer_(std::move(other.syncer_)) {
  other.fd_ = -1;
  other.segments_.clear();
}

TaskJournal::~TaskJournal() {
  if (fd_ >= 0 && !pending_.empty()) (void)Flush();
  syncer_.reset();
  if (fd_ >= 0) ::close(fd_);
  for (const Segment& segment : segments_) ::close(segment.fd);
}

Result<std::string_view> TaskJournal::View(uint32_t segment, uint64_t offset, uint64_t size, bool in_order) const {
  if (segment > segments_.size()) {
    return DataLoss(path_.string() + ": refers to segment " + std::to_string(segment) + ", which it does not declare");
  }
  if (segment == 0 && offset + size > end_ - pending_.size()) INGEST_RETURN_IF_ERROR(Flush());
  const Segment* in = segment == 0 ? nullptr : &segments_[segment - 1];
  // Indexing reads the file in order, and so, roughly, do the merge and
  // the next pass (results land about in merge order): a read near one
  // before takes a window, any other what it needs.
  bool ahead = in_order;
  Window* victim = &windows_.each[0];
  for (Window& window : windows_.each) {
    if (window.used < victim->used) victim = &window;
    if (window.segment != segment) continue;
    if (offset >= window.start && offset + size <= window.start + window.size) {
      window.used = ++windows_.clock;
      return std::string_view(window.data.get() + (offset - window.start), size);
    }
    ahead = ahead || (window.size > 0 && offset + kReadAhead >= window.start &&
                      offset < window.start + window.size + kReadAhead);
  }
  uint64_t want = ahead ? std::max<uint64_t>(size, kReadWindow) : size;
  // A segment does not grow: no window past its end.
  if (in != nullptr && in->size > offset) want = std::min(want, std::max<uint64_t>(size, in->size - offset));
  if (victim->capacity < want) {
    victim->data = std::make_unique_for_overwrite<char[]>(want);
    victim->capacity = want;
  }
  victim->start = offset;
  victim->segment = segment;
  victim->size = 0;
  victim->used = ++windows_.clock;
  INGEST_ASSIGN_OR_RETURN(victim->size, ReadUpTo(in == nullptr ? fd_ : in->fd, victim->data.get(), want, offset,
                                                 in == nullptr ? path_ : in->path));
  if (victim->size < size) return std::string_view();
  return std::string_view(victim->data.get(), size);
}

Result<std::string_view> TaskJournal::Frame(JournalLocation at, bool in_order) const {
  return View(at.segment, at.offset - kFrameHeader, kFrameHeader + at.size, in_order);
}

Result<TaskJournal> TaskJournal::Open(const std::filesystem::path& path, bool fresh) {
  // A journal carried forward is a hard link to the previous job's, which
  // must keep its bytes.
  INGEST_RETURN_IF_ERROR(UnshareFile(path, !fresh));
  if (fresh) {
    // Links an emptied journal no longer references keep their files alive.
    for (const std::filesystem::path& segment : SegmentsBeside(path)) ::unlink(segment.c_str());
  }
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
  if (whole && (magic == kMagic || magic == kMagicV2)) {
    good = kMagic.size();
    while (good + kFrameHeader <= size) {
      INGEST_ASSIGN_OR_RETURN(std::string_view header, View(0, good, kFrameHeader, true));
      if (header.empty()) break;
      uint32_t length = 0;
      std::memcpy(&length, header.data(), 4);  // written little endian on the same host
      if (length > kMaxEntryBytes || good + kFrameHeader + length > size) break;
      INGEST_ASSIGN_OR_RETURN(std::string_view frame, View(0, good, kFrameHeader + length, true));
      if (frame.size() != kFrameHeader + length) break;
      const std::string_view payload = frame.substr(kFrameHeader);
      if (!ChecksumHolds(frame)) break;
      if (!payload.empty() && static_cast<uint8_t>(payload[0]) == kSegmentTag) {
        // A segment that cannot be opened is damage here: what follows may
        // reference it.
        if (!Declare(payload).ok()) break;
        good += kFrameHeader + length;
        continue;
      }
      std::string task_id;
      std::optional<Indexed> indexed = EntryHead(payload, JournalLocation{good + kFrameHeader, length}, &task_id);
      if (!indexed) break;
      good += kFrameHeader + length;
      earlier_[std::move(task_id)] = std::move(*indexed);
    }
  }
  CheckReferences();
  if (read_only_) {
    discarded_bytes_ = size - std::min(good, size);
    end_ = good;
    return Status::Ok();
  }
  if (good == 0 || magic != kMagic) {
    // Empty, foreign or a torn magic: start over. Version 2: what this
    // release appends may be version 3's.
    INGEST_RETURN_IF_ERROR(WriteAt(fd_, kMagic, 0, path_));
    good = std::max<uint64_t>(good, kMagic.size());
  }
  if (good < size) {
    discarded_bytes_ = size - good;
    for (Window& window : windows_.each) {
      if (window.segment == 0) window.size = 0;  // may hold what is cut off
    }
    if (::ftruncate(fd_, static_cast<off_t>(good)) != 0) return ErrnoStatus(errno, path_.string());
  }
  end_ = good;
  return Sync();
}

Status TaskJournal::Declare(std::string_view payload) {
  JournalEntry entry;
  if (!entry.ParseFromArray(payload.data(), static_cast<int>(payload.size()))) {
    return DataLoss(path_.string() + ": damaged segment declaration");
  }
  const std::string& file = entry.segment().file();
  // A name beside the journal, nothing that leads elsewhere.
  if (entry.segment().number() != segments_.size() + 1 || file.empty() || file == "." || file == ".." ||
      file.find('/') != std::string::npos) {
    return DataLoss(path_.string() + ": bad segment declaration '" + file + "'");
  }
  return OpenSegment(path_.parent_path() / file);
}

Status TaskJournal::OpenSegment(std::filesystem::path path) {
  Segment segment{.path = std::move(path)};
  segment.fd = ::open(segment.path.c_str(), O_RDONLY | O_CLOEXEC);
  if (segment.fd < 0) return ErrnoStatus(errno, segment.path.string());
  struct stat st {};
  if (::fstat(segment.fd, &st) != 0) {
    Status error = ErrnoStatus(errno, segment.path.string());
    ::close(segment.fd);
    return error;
  }
  segment.size = static_cast<uint64_t>(st.st_size);
  segments_.push_back(std::move(segment));
  return Status::Ok();
}

void TaskJournal::CheckReferences() {
  // In the order their files hold them, so each file is read through once.
  std::vector<std::map<std::string, Indexed>::iterator> referenced;
  for (auto it = earlier_.begin(); it != earlier_.end(); ++it) {
    if (it->second.at.segment != 0) referenced.push_back(it);
  }
  std::sort(referenced.begin(), referenced.end(), [](const auto& a, const auto& b) {
    return std::pair(a->second.at.segment, a->second.at.offset) < std::pair(b->second.at.segment, b->second.at.offset);
  });
  for (auto it : referenced) {
    if (Holds(it->first, it->second)) continue;
    ++dropped_references_;
    earlier_.erase(it);
  }
}

bool TaskJournal::Holds(const std::string& task_id, const Indexed& referenced) const {
  if (referenced.at.offset < kFrameHeader || referenced.at.size > kMaxEntryBytes) return false;
  Result<std::string_view> frame = Frame(referenced.at, /*in_order=*/true);
  if (!frame.ok() || frame->size() != kFrameHeader + referenced.at.size || !ChecksumHolds(*frame)) return false;
  uint32_t length = 0;
  std::memcpy(&length, frame->data(), 4);
  if (length != referenced.at.size) return false;
  std::string id;
  // The entry itself, not another reference, and a success: only those are
  // referenced.
  std::optional<Indexed> head = EntryHead(frame->substr(kFrameHeader), JournalLocation{}, &id);
  return head && id == task_id && head->digest == referenced.digest && head->at.segment == 0 && head->at.size == 0 &&
         !head->failed;
}

std::optional<JournalLocation> TaskJournal::Earlier(const std::string& task_id) const {
  auto it = earlier_.find(task_id);
  if (it == earlier_.end()) return std::nullopt;
  return it->second.at;
}

Result<JournalLocation> TaskJournal::Append(const JournalEntry& entry) {
  if (entry.has_ref() || entry.has_segment()) {
    return InvalidArgument(path_.string() + ": references and segments are the journal's own (Carry)");
  }
  return Write(entry);
}

Result<JournalLocation> TaskJournal::Write(const JournalEntry& entry) {
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

Result<uint32_t> TaskJournal::AddSegment(const std::filesystem::path& file, const std::string& name) {
  const std::filesystem::path link = path_.parent_path() / name;
  for (size_t i = 0; i < segments_.size(); ++i) {
    if (segments_[i].path == link) return static_cast<uint32_t>(i + 1);  // declared by an earlier run
  }
  INGEST_RETURN_IF_ERROR(LinkOrCopyFile(file, link, /*sync_directory=*/false));
  directory_unsynced_ = true;
  INGEST_RETURN_IF_ERROR(OpenSegment(link));
  JournalEntry declaration;
  declaration.mutable_segment()->set_number(static_cast<uint32_t>(segments_.size()));
  declaration.mutable_segment()->set_file(name);
  INGEST_RETURN_IF_ERROR(Write(declaration).status());
  return static_cast<uint32_t>(segments_.size());
}

Result<std::vector<JournalLocation>> TaskJournal::Carry(const TaskJournal& previous,
                                                        const std::vector<Carried>& carried) {
  if (read_only_) return FailedPrecondition(path_.string() + ": opened read-only");
  // The files of `previous`: its own (0) and its segments.
  const size_t files = previous.segments_.size() + 1;
  std::vector<uint64_t> live(files, 0);
  for (const Carried& one : carried) live.at(one.entry->at.segment) += kFrameHeader + one.entry->at.size;
  const auto file_size = [&](size_t file) { return file == 0 ? previous.end_ : previous.segments_[file - 1].size; };
  std::vector<size_t> referenced;
  for (size_t file = 0; file < files; ++file) {
    if (live[file] > 0 && live[file] * 2 >= file_size(file)) referenced.push_back(file);
  }
  std::stable_sort(referenced.begin(), referenced.end(), [&](size_t a, size_t b) { return live[a] > live[b]; });
  if (referenced.size() > kMaxSegments) referenced.resize(kMaxSegments);
  std::sort(referenced.begin(), referenced.end());
  std::vector<uint32_t> number(files, 0);  // here; 0: copied
  for (size_t file : referenced) {
    const std::filesystem::path& path = file == 0 ? previous.path_ : previous.segments_[file - 1].path;
    const std::string name = file == 0 ? SegmentName(path) : path.filename().string();
    INGEST_ASSIGN_OR_RETURN(number[file], AddSegment(path, name));
  }
  std::vector<JournalLocation> at;
  at.reserve(carried.size());
  for (const Carried& one : carried) {
    const JournalLocation from = one.entry->at;
    if (number[from.segment] == 0) {
      // Copied as it is stored, unparsed and not checksummed again.
      INGEST_ASSIGN_OR_RETURN(std::string_view frame, previous.Frame(from, /*in_order=*/true));
      if (frame.size() != kFrameHeader + from.size) {
        return DataLoss(previous.path_.string() + ": entry of " + one.task_id + " is damaged");
      }
      INGEST_ASSIGN_OR_RETURN(JournalLocation copied, AppendFrame(frame));
      at.push_back(copied);
      continue;
    }
    JournalEntry reference;
    reference.set_task_id(one.task_id);
    reference.set_task_digest(one.entry->digest);
    reference.mutable_ref()->set_segment(number[from.segment]);
    reference.mutable_ref()->set_offset(from.offset);
    reference.mutable_ref()->set_size(from.size);
    INGEST_RETURN_IF_ERROR(Write(reference).status());
    at.push_back(JournalLocation{from.offset, from.size, number[from.segment]});
  }
  return at;
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
  INGEST_ASSIGN_OR_RETURN(std::string_view payload, View(at.segment, at.offset, at.size));
  JournalEntry entry;
  if (payload.size() != at.size || !entry.ParseFromArray(payload.data(), static_cast<int>(payload.size()))) {
    return DataLoss(path_.string() + ": entry at offset " + std::to_string(at.offset) + " is damaged");
  }
  return entry;
}

Result<TaskJournal::ResultView> TaskJournal::ReadView(JournalLocation at) const {
  INGEST_ASSIGN_OR_RETURN(std::string_view frame, Frame(at));
  const auto damaged = [&](const std::string& what) {
    const std::filesystem::path& file = at.segment == 0 ? path_ : segments_[at.segment - 1].path;
    return DataLoss(file.string() + ": entry at offset " + std::to_string(at.offset) + " " + what);
  };
  if (frame.size() != kFrameHeader + at.size) return damaged("is damaged");
  ResultView view{.frame = frame};
  const std::string_view payload = frame.substr(kFrameHeader);
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
    if (tag != Tag(JournalEntry::kResultFieldNumber, kBytes)) {
      if (!WireFormatLite::SkipField(&entry, tag)) return damaged("is damaged");
      continue;
    }
    uint32_t length = 0;
    if (!entry.ReadVarint32(&length)) return damaged("is damaged");
    const auto limit = entry.PushLimit(static_cast<int>(length));
    for (uint32_t field = entry.ReadTag(); field != 0; field = entry.ReadTag()) {
      bool ok = true;
      switch (field) {
        case Tag(TaskResult::kErrorFieldNumber, kBytes):
          view.has_error = true;
          ok = WireFormatLite::SkipField(&entry, field);
          break;
        case Tag(TaskResult::kRecordBytesFieldNumber, kBytes):
          ok = bytes(&view.record_bytes);
          break;
        case Tag(TaskResult::kArtifactJsonFieldNumber, kBytes):
          ok = bytes(&view.artifact_json);
          break;
        case Tag(TaskResult::kTotalsFieldNumber, kBytes):
          ok = bytes(&view.totals);
          break;
        case Tag(TaskResult::kSharedFieldNumber, kBytes):
          ok = bytes(&view.shared.emplace_back());
          break;
        case Tag(TaskResult::kRecordCountFieldNumber, WireFormatLite::WIRETYPE_VARINT):
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
  // The syncer's last sync may have covered it all.
  if (syncer_) INGEST_RETURN_IF_ERROR(syncer_->Wait());
  if (unsynced_ > 0 || !syncer_) {
    if (::fdatasync(fd_) != 0) return ErrnoStatus(errno, path_.string());
    unsynced_ = 0;
  }
  if (directory_unsynced_) {
    // The links of the segments its entries reference.
    INGEST_RETURN_IF_ERROR(SyncDirectory(path_.parent_path()));
    directory_unsynced_ = false;
  }
  return Status::Ok();
}

void TaskJournal::Remove() {
  pending_.clear();
  syncer_.reset();
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
  ::unlink(path_.c_str());
  for (const Segment& segment : segments_) {
    ::close(segment.fd);
    ::unlink(segment.path.c_str());
  }
  segments_.clear();
}

}  // namespace ingest
