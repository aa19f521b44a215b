#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/file_syncer.h"
#include "common/status.h"
#include "proto/journal.pb.h"

namespace ingest {

// Where one entry lives: in the journal's own file, or in one of the
// segments it declared (TaskJournal::Carry).
struct JournalLocation {
  uint64_t offset = 0;  // of the payload
  uint32_t size = 0;
  uint32_t segment = 0;  // 0: the journal's own file; else the segment of that number
};

// The committed task results of one pass, appended as they arrive: the
// merge reads them back in plan order, and a coordinator killed mid-pass
// finds them again on `--resume`. Every entry is framed with its length and a
// checksum, so a half-written tail (the process died inside a write) or a
// damaged entry is detected on open and cut off, never trusted. Appends are
// buffered (256 KiB) and fsynced in batches (every 1,024 entries or 250 ms),
// on a thread of the journal's own, so that results keep being taken in
// while the disk writes: a machine that goes down loses at most the batches
// not synced yet, whose tasks simply run again (a process that dies loses
// nothing written).
//
// A journal may reference entries instead of holding them: a result carried
// forward from the previous job stays in that job's journal file, which is
// hard-linked beside this one as a segment ({stem}.{job}.segment) and
// declared in this file, followed by a small entry per result that says
// where it is. Opening checks every referenced entry as it checks its own.
// Not thread-safe.
class TaskJournal {
 public:
  // Opens `path`, creating it if needed, and indexes the entries an earlier
  // run left there; `fresh` empties it first (an explicit rerun).
  static Result<TaskJournal> Open(const std::filesystem::path& path, bool fresh = false);
  // Indexes another job's journal without changing it: the results a new
  // job carries forward for unchanged documents.
  static Result<TaskJournal> OpenReadOnly(const std::filesystem::path& path);

  TaskJournal(TaskJournal&& other) noexcept;
  TaskJournal& operator=(TaskJournal&&) = delete;
  TaskJournal(const TaskJournal&) = delete;
  ~TaskJournal();

  // The last entry an earlier run committed for `task_id`.
  std::optional<JournalLocation> Earlier(const std::string& task_id) const;
  size_t earlier_entries() const { return earlier_.size(); }
  // Every entry an earlier run committed, by task id (the last of each),
  // with its task digest.
  struct Indexed {
    JournalLocation at;
    std::string digest;
    bool failed = false;  // holds an error instead of records
  };
  const std::map<std::string, Indexed>& entries() const { return earlier_; }
  // Bytes of a torn or damaged tail that Open cut off.
  uint64_t discarded_bytes() const { return discarded_bytes_; }
  // References Open left out of the index: their segment's entry was
  // missing or damaged (their tasks run again).
  uint64_t dropped_references() const { return dropped_references_; }
  // Segments declared so far.
  size_t segments() const { return segments_.size(); }

  // A task's result. InvalidArgument for a reference or a segment
  // declaration: only Carry writes those.
  Result<JournalLocation> Append(const JournalEntry& entry);
  // An entry as another journal stores it (ResultView::frame), written as
  // it is: a result carried from one job to the next is neither parsed nor
  // serialized nor checksummed again.
  Result<JournalLocation> AppendFrame(std::string_view frame);
  // Takes over successful results of `previous` (another job's journal,
  // opened read-only), in order; returns where each is now. A file of
  // `previous` whose entries are still mostly carried is referenced (linked
  // beside this journal as a segment, at most kMaxSegments of them, those
  // with the most carried bytes); the entries of any other are copied, so a
  // chain of jobs compacts itself and never holds more than twice what it
  // references. Durable with the next Sync.
  struct Carried {
    std::string task_id;
    const Indexed* entry;  // in previous.entries()
  };
  static constexpr size_t kMaxSegments = 6;
  Result<std::vector<JournalLocation>> Carry(const TaskJournal& previous, const std::vector<Carried>& carried);
  // An entry found on open or appended since. Their checksums were checked
  // on open (or they were written by this process), so they are not hashed
  // again: the merge and later passes read every entry. DataLoss when it no
  // longer parses.
  Result<JournalEntry> Read(JournalLocation at) const;
  // The fields of an entry's result that the merge, later passes and the
  // carry-forward read, found without parsing the entry: views into the
  // journal's read buffer, valid until its next read or append.
  struct ResultView {
    std::string_view frame;  // the whole entry as stored, its length and checksum in front
    bool has_error = false;
    std::string_view record_bytes;   // TaskResult::record_bytes
    std::string_view artifact_json;  // TaskResult::artifact_json
    uint32_t record_count = 0;
    std::string_view totals;               // a serialized Metrics
    std::vector<std::string_view> shared;  // serialized SharedRecords
  };
  // DataLoss when the entry does not parse or has no result.
  Result<ResultView> ReadView(JournalLocation at) const;
  // The records of an entry's result (TaskResult::record_bytes) appended to
  // `records`, and their count added to `count`: what later passes read.
  // DataLoss when it does not parse or holds an error instead.
  Status ReadRecords(JournalLocation at, std::string* records, uint32_t* count) const;
  // Makes every appended entry durable, waiting for the disk.
  Status Sync();
  // Has the syncer start what Sync does and returns at once: Sync then waits
  // for it instead of syncing again.
  Status StartSync();
  // Closes and deletes the file and its segments' links.
  void Remove();

  const std::filesystem::path& path() const { return path_; }

 private:
  TaskJournal(std::filesystem::path path, int fd);
  // Appends any entry, framed.
  Result<JournalLocation> Write(const JournalEntry& entry);
  // Indexes the entries on disk and truncates what follows the last good one.
  Status Recover();
  // Accounts for a frame of `frame_size` bytes just added to pending_,
  // writing and fsyncing in batches; the error of an earlier batch's fsync,
  // if any.
  Result<JournalLocation> Appended(size_t frame_size);
  // Writes the buffered frames.
  Status Flush() const;
  // Bytes read from the journal's own file (segment 0) or a segment, from
  // `start`. Kept between reads, never zero-filled.
  struct Window {
    std::unique_ptr<char[]> data;
    uint64_t capacity = 0;
    uint64_t size = 0;
    uint64_t start = 0;
    uint32_t segment = 0;
    uint64_t used = 0;  // when last read from
  };
  // The last few windows read, whatever their file: the next read is often
  // inside one. Entries are read about in the order they were written, but
  // a full run wrote them as the workers' batches came back, interleaved,
  // so a read in plan order goes back and forth by a batch or two. A few
  // for the whole journal, not per file: memory stays that of one file.
  struct Windows {
    std::array<Window, 4> each;
    uint64_t clock = 0;
  };
  struct Segment {
    std::filesystem::path path;
    int fd = -1;
    uint64_t size = 0;
  };
  // Bytes [offset, offset + size) of the journal's own file (segment 0) or
  // of a segment, valid until the next call; empty when the file is
  // shorter. `in_order`: reads follow each other through the file, so read
  // ahead.
  Result<std::string_view> View(uint32_t segment, uint64_t offset, uint64_t size, bool in_order = false) const;
  // The whole frame of the entry at `at`, its header included.
  Result<std::string_view> Frame(JournalLocation at, bool in_order = false) const;
  // Opens and adds the segment a declaration entry names.
  Status Declare(std::string_view payload);
  // Opens the file at `path` as the next segment.
  Status OpenSegment(std::filesystem::path path);
  // Leaves out of the index the references whose entry is not Holds.
  void CheckReferences();
  // Whether the entry a reference points to is there, whole, and of the
  // same task.
  bool Holds(const std::string& task_id, const Indexed& referenced) const;
  // Links `file` beside this journal as `name` and declares it; its number.
  Result<uint32_t> AddSegment(const std::filesystem::path& file, const std::string& name);

  std::filesystem::path path_;
  int fd_ = -1;
  uint64_t end_ = 0;  // of the entries, the buffered ones included
  // Frames appended and not yet written, which start at end_ - pending_.size().
  mutable std::string pending_;
  mutable Windows windows_;
  std::vector<Segment> segments_;  // segment n at n - 1
  std::map<std::string, Indexed> earlier_;
  uint64_t discarded_bytes_ = 0;
  uint64_t dropped_references_ = 0;
  bool directory_unsynced_ = false;  // segments were linked since the last Sync
  bool read_only_ = false;
  uint32_t unsynced_ = 0;
  std::chrono::steady_clock::time_point first_unsynced_;
  std::unique_ptr<FileSyncer> syncer_;  // started by the first batch; before fd_ closes, gone
};

// {job_dir}/journal/pass{X}.journal: where the results of a job's pass are.
std::filesystem::path JournalPath(const std::filesystem::path& job_dir, Pass pass);

// Hard-links (or copies) the journal at `from` to `to`, with the segments
// beside it that it may reference: a pass carried forward whole.
Status LinkJournal(const std::filesystem::path& from, const std::filesystem::path& to);

// The digest a journal entry carries for `task` (its attempt number aside).
// `inputs` stands for the upstream records the task is given when they are
// not in `task` itself: a digest of their serialized bytes, so that deciding
// whether a result can be reused reads those bytes but never parses them.
std::string TaskDigest(const Task& task, std::string_view inputs = {});

}  // namespace ingest
