#pragma once

#include <chrono>
#include <filesystem>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "common/config.h"
#include "common/status.h"
#include "coordinator/fleet/task_handler.h"
#include "coordinator/sources/change_detection.h"
#include "coordinator/state/state_store.h"
#include "proto/fleet.pb.h"

namespace ingest {

// Pages of http sources (SPEC §7). Workers fetch them before pass A; the
// coordinator keeps each body it received in a page store and sends it along
// with the tasks that read the page, so workers need no storage shared with
// the coordinator.

// Largest page body a worker accepts.
inline constexpr uint64_t kMaxPageBytes = uint64_t{64} << 20;

// The document path of a page: host[:port] and URL path as a safe relative
// path ("example.org/policy", "example.org/index" for "/", a query joined
// with '_'). Stable across runs, so a page keeps its source_id.
std::string PagePath(const std::string& url);

// Page bodies by sha256 under {artifact_root}/ingest/{env}/pages, shared by
// the env's jobs: a page answered 304 is read from here, and a resumed job
// finds its pages. Written atomically; read back only when the sha256 checks.
class PageStore {
 public:
  explicit PageStore(std::filesystem::path dir) : dir_(std::move(dir)) {}
  static std::filesystem::path DirOf(const Config& config);

  bool Has(const std::string& checksum) const;
  // DataLoss when the stored bytes do not hash to `checksum`.
  Result<std::string> Read(const std::string& checksum) const;
  Status Put(const std::string& checksum, std::string_view body);

 private:
  std::filesystem::path dir_;
};

// One fetch task per page of the due http sources, paced per source by its
// requests_per_minute (first attempts and retries alike): a rate-limited
// source has one request in flight at a time, and the next is dispatched a
// full interval after the previous one ended, so the server never sees two
// closer together than that, however the workers' latencies vary. Conditional
// requests are only made for pages whose last body the page store still has.
class PageFetchPlan : public TaskHandler {
 public:
  explicit PageFetchPlan(const PageStore& pages) : pages_(pages) {}

  // `stored` is what the state store knows of the source's documents;
  // `conditional` false (a full refresh) always downloads.
  void AddSource(const SourceConfig& source, const std::map<std::string, StoredDocument>& stored, bool conditional);
  size_t size() const { return pages_planned_.size(); }

  Result<Task> BuildTask(size_t index) override;
  void OnResult(size_t index, TaskResult result) override;
  std::chrono::steady_clock::time_point NotBefore(size_t index, std::chrono::steady_clock::time_point now) override;
  void OnAttemptEnded(size_t index) override;

  // After the fetch: the source's documents compared with the store, bodies
  // of 200 answers put in the page store. A page that could not be fetched
  // keeps its last version when the page store has it (and is left out
  // otherwise); either way its error is appended to `errors`.
  SourceChanges Settle(const SourceConfig& source, const std::map<std::string, StoredDocument>& stored,
                       PageStore& pages, std::vector<std::string>* errors);

 private:
  struct Planned {
    const SourceConfig* source;
    std::string url;
    std::string source_id;
    std::string path;
    FetchRequest request;
    TaskResult result;
    bool answered = false;
  };

  const PageStore& pages_;
  std::vector<Planned> pages_planned_;
  struct Pace {
    bool in_flight = false;
    std::chrono::steady_clock::time_point next;
  };
  std::map<std::string, Pace> pace_;  // rate-limited sources, by name
};

}  // namespace ingest
