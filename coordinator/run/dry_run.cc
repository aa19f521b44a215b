#include "coordinator/run/dry_run.h"

#include <spdlog/spdlog.h>

#include <iostream>

#include "common/pass.h"
#include "common/proto_json.h"
#include "coordinator/run/source_scan.h"

namespace ingest {

Result<admin::Plan> PlanRun(const RunContext& ctx) {
  const RunOptions& options = ctx.options;
  INGEST_ASSIGN_OR_RETURN(std::optional<StateStore> store, StateStore::OpenReadOnly(ctx.config.state_db));
  admin::Plan plan;
  plan.set_env(ctx.config.env);
  for (Pass p : ctx.passes) plan.add_passes(PassLetter(p));
  plan.set_has_state_store(store.has_value());
  INGEST_ASSIGN_OR_RETURN(std::vector<ScannedSource> scanned,
                          ScanSources(ctx.config, options, store ? &*store : nullptr, ctx.started));
  for (const ScannedSource& s : scanned) {
    admin::SourcePlan* source = plan.add_sources();
    source->set_name(s.source->name);
    source->set_kind(s.source->kind);
    source->set_check_frequency(s.source->check_frequency);
    switch (s.state) {
      case ScannedSource::State::kNotDue:
        source->set_state("not_due");
        break;
      case ScannedSource::State::kUnreadable:
        source->set_state("unreadable");
        source->set_error(s.error.message());
        break;
      case ScannedSource::State::kToFetch:
        // Whether a page changed is known only once it is fetched, and a
        // plan fetches nothing.
        source->set_state("due");
        for (const std::string& url : s.source->urls) source->add_fetch_urls(url);
        break;
      case ScannedSource::State::kFound:
        source->set_state("due");
        for (const DetectedDocument& d : s.changes.documents) {
          const std::string& path = d.document.path;
          if (options.baseline || d.change == Change::kNew) {
            source->add_new_documents(path);
          } else if (d.change == Change::kModified) {
            source->add_modified_documents(path);
          } else if (ctx.recompute_all() || d.previously_failed) {
            source->add_retried_documents(path);
          } else {
            source->set_unchanged_documents(source->unchanged_documents() + 1);
            continue;
          }
          plan.set_documents_to_process(plan.documents_to_process() + 1);
        }
        for (const StoredDocument& gone : s.changes.deleted) source->add_deleted_documents(gone.path);
        plan.set_documents_unchanged(plan.documents_unchanged() + source->unchanged_documents());
        break;
    }
  }
  plan.set_tasks_per_pass(plan.documents_to_process());
  return plan;
}

void PrintPlan(const admin::Plan& plan, std::ostream& out) {
  out << "dry run: env " << plan.env() << ", passes ";
  for (const std::string& p : plan.passes()) out << p;
  out << (plan.has_state_store() ? "" : " (no state store yet: every document is new)") << "\n";
  for (const admin::SourcePlan& s : plan.sources()) {
    if (s.state() == "not_due") {
      out << "source " << s.name() << ": not due (check_frequency " << s.check_frequency() << "), kept as last seen\n";
    } else if (s.state() == "unreadable") {
      out << "source " << s.name() << ": " << s.error() << "\n";
    } else if (s.kind() == "http") {
      out << "source " << s.name() << ": due, " << s.fetch_urls_size()
          << " pages to fetch (changes are known after the fetch)\n";
      for (const std::string& url : s.fetch_urls()) out << "  fetch  " << url << "\n";
    } else {
      out << "source " << s.name() << ": due, "
          << s.new_documents_size() + s.modified_documents_size() + s.retried_documents_size() + s.unchanged_documents()
          << " documents\n";
      for (const std::string& path : s.new_documents()) out << "  new  " << path << "\n";
      for (const std::string& path : s.modified_documents()) out << "  modified  " << path << "\n";
      for (const std::string& path : s.retried_documents()) out << "  retried  " << path << "\n";
      for (const std::string& path : s.deleted_documents()) out << "  deleted  " << path << "\n";
    }
  }
  out << plan.documents_to_process() << " documents to process ("
      << static_cast<uint64_t>(plan.tasks_per_pass()) * plan.passes_size()
      << " document tasks, more where pass B splits), " << plan.documents_unchanged() << " unchanged carried forward\n";
}

int DryRun(const RunContext& ctx) {
  Result<admin::Plan> plan = PlanRun(ctx);
  if (!plan.ok()) {
    spdlog::error("{}", plan.status().message());
    return kExitFailed;
  }
  if (ctx.options.json) {
    std::cout << ToJson(*plan) << std::endl;
  } else {
    PrintPlan(*plan, std::cout);
  }
  return kExitCompleted;
}

}  // namespace ingest
