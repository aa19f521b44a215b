#include "coordinator/run/dry_run.h"

#include <spdlog/spdlog.h>

#include <iostream>

#include "common/pass.h"
#include "coordinator/run/source_scan.h"

namespace ingest {

int DryRun(const RunContext& ctx) {
  const RunOptions& options = ctx.options;
  Result<std::optional<StateStore>> store = StateStore::OpenReadOnly(ctx.config.state_db);
  if (!store.ok()) {
    spdlog::error("{}", store.status().message());
    return kExitFailed;
  }
  std::cout << "dry run: env " << ctx.config.env << ", passes ";
  for (Pass p : ctx.passes) std::cout << PassLetter(p);
  std::cout << (*store ? "" : " (no state store yet: every document is new)") << "\n";
  StateStore* read_only = *store ? &**store : nullptr;  // no lock is taken
  Result<std::vector<ScannedSource>> scanned = ScanSources(ctx.config, options, read_only, ctx.started);
  if (!scanned.ok()) {
    spdlog::error("{}", scanned.status().message());
    return kExitFailed;
  }
  size_t to_process = 0;
  size_t unchanged = 0;
  for (const ScannedSource& s : *scanned) {
    const SourceConfig& source = *s.source;
    switch (s.state) {
      case ScannedSource::State::kNotDue:
        std::cout << "source " << source.name << ": not due (check_frequency " << source.check_frequency
                  << "), kept as last seen\n";
        break;
      case ScannedSource::State::kUnreadable:
        std::cout << "source " << source.name << ": " << s.error.message() << "\n";
        break;
      case ScannedSource::State::kToFetch:
        // Whether a page changed is known only once it is fetched, and a dry
        // run fetches nothing.
        std::cout << "source " << source.name << ": due, " << source.urls.size()
                  << " pages to fetch (changes are known after the fetch)\n";
        for (const std::string& url : source.urls) std::cout << "  fetch  " << url << "\n";
        break;
      case ScannedSource::State::kFound:
        std::cout << "source " << source.name << ": due, " << s.changes.documents.size() << " documents\n";
        for (const DetectedDocument& d : s.changes.documents) {
          if (!ctx.recompute_all() && d.change == Change::kUnchanged && !d.previously_failed) {
            ++unchanged;
            continue;
          }
          ++to_process;
          std::cout << "  " << (options.baseline ? "new" : ChangeName(d.change)) << "  " << d.document.path << "\n";
        }
        for (const StoredDocument& gone : s.changes.deleted) std::cout << "  deleted  " << gone.path << "\n";
        break;
    }
  }
  std::cout << to_process << " documents to process (" << to_process * ctx.passes.size()
            << " document tasks, more where pass B splits), " << unchanged << " unchanged carried forward\n";
  return kExitCompleted;
}

}  // namespace ingest
