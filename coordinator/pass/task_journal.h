#pragma once

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

// Where one entry lives in the journal file.
struct JournalLocation {
  uint64_t offset = 0;  // of the payload
  uint32_t size = 0;
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
// nothing written). Not thread-safe.
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
  };
  const std::map<std::string, Indexed>& entries() const { return earlier_; }
  // Bytes of a torn or damaged tail that Open cut off.
  uint64_t discarded_bytes() const { return discarded_bytes_; }

  Result<JournalLocation> Append(const JournalEntry& entry);
  // An entry as another journal stores it (ResultView::frame), written as
  // it is: a result carried from one job to the next is neither parsed nor
  // serialized nor checksummed again.
  Result<JournalLocation> AppendFrame(std::string_view frame);
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
  // Closes and deletes the file.
  void Remove();

  const std::filesystem::path& path() const { return path_; }

 private:
  TaskJournal(std::filesystem::path path, int fd);
  // Indexes the entries on disk and truncates what follows the last good one.
  Status Recover();
  // Accounts for a frame of `frame_size` bytes just added to pending_,
  // writing and fsyncing in batches; the error of an earlier batch's fsync,
  // if any.
  Result<JournalLocation> Appended(size_t frame_size);
  // Writes the buffered frames.
  Status Flush() const;
  // The file's bytes [offset, offset + size), valid until the next call;
  // empty when the file is shorter. `in_order`: reads follow each other
  // through the file, so read ahead.
  Result<std::string_view> View(uint64_t offset, uint64_t size, bool in_order = false) const;

  std::filesystem::path path_;
  int fd_ = -1;
  uint64_t end_ = 0;  // of the entries, the buffered ones included
  // Frames appended and not yet written, which start at end_ - pending_.size().
  mutable std::string pending_;
  // The bytes read last, from window_start_: the next read is often inside.
  mutable std::string window_;
  mutable uint64_t window_start_ = 0;
  std::map<std::string, Indexed> earlier_;
  uint64_t discarded_bytes_ = 0;
  bool read_only_ = false;
  uint32_t unsynced_ = 0;
  std::chrono::steady_clock::time_point first_unsynced_;
  std::unique_ptr<FileSyncer> syncer_;  // started by the first batch; before fd_ closes, gone
};

// {job_dir}/journal/pass{X}.journal: where the results of a job's pass are.
std::filesystem::path JournalPath(const std::filesystem::path& job_dir, Pass pass);

// The digest a journal entry carries for `task` (its attempt number aside).
// `inputs` stands for the upstream records the task is given when they are
// not in `task` itself: a digest of their serialized bytes, so that deciding
// whether a result can be reused reads those bytes but never parses them.
std::string TaskDigest(const Task& task, std::string_view inputs = {});

}  // namespace ingest
