#pragma once

#include <map>
#include <string>
#include <vector>

#include "common/config.h"
#include "common/status.h"
#include "coordinator/fleet/fleet.h"
#include "coordinator/run/run_context.h"
#include "coordinator/sources/change_detection.h"

namespace ingest {

// One source as the scan found it.
struct ScannedSource {
  enum class State {
    kNotDue,      // its check_frequency has not come round: kept as last seen
    kFound,       // a due files source: `changes` holds its documents
    kUnreadable,  // a due files source whose root could not be listed: `error`
    kToFetch,     // a due http source: its pages are fetched by the fleet
  };
  const SourceConfig* source = nullptr;
  State state = State::kFound;
  std::map<std::string, StoredDocument> stored;  // what the store knew of its documents
  SourceChanges changes;
  Status error;
};

// Walks the sources a run covers (those of --source, else all) once: whether
// each is due, and for a due files source its documents compared with the
// store. Without a store (a dry run before the first run) every source is
// due and every document new. InvalidArgument when --source names no
// configured source; errors of the store name its file.
Result<std::vector<ScannedSource>> ScanSources(const Config& config, const RunOptions& options, StateStore* store,
                                               WallTime now);

// The source scan of a run, and the page fetch that completes it for http
// sources once the fleet is up.
//
// Reads: config, options, store, started.
// Writes: manifest (documents, sources, changes), discovery, errors; the
// store (documents, change events) when discovery is committed.
class SourceScan {
 public:
  explicit SourceScan(RunContext& ctx) : ctx_(ctx) {}

  // Scans the sources and records what was found in the manifest; due http
  // sources wait in discovery.pending_pages.
  Status Run();
  // Has the fleet fetch the pending pages and adds them like the scan's.
  Status FetchPages(Fleet& fleet);
  // Makes discovery durable (documents and change events in the store, the
  // counts in the manifest): a resumed run does not discover again.
  Status Commit();

 private:
  // Adds one source's documents to the manifest, the counts and the change
  // events; `stored` is what the store held of them.
  void AddDetected(const SourceConfig& source, SourceChanges changes,
                   const std::map<std::string, StoredDocument>& stored);
  // A source that is not due keeps the documents the store last saw.
  // A document whose name cannot go to a worker (DiscoveredDocument::name_error).
  void FailBeforeDispatch(const DiscoveredDocument& found, DocumentRecord* doc);
  void AddNotDue(const SourceConfig& source, const std::map<std::string, StoredDocument>& stored);

  RunContext& ctx_;
};

}  // namespace ingest
