#include "coordinator/notify/failure_report.h"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <sstream>
#include <tuple>

#include "common/atomic_file.h"
#include "common/manifest.h"
#include "common/redact.h"

namespace ingest {

std::vector<FailureGroup> GroupFailures(const Manifest& manifest) {
  std::map<std::pair<std::string, std::string>, std::vector<const DocumentRecord*>> groups;
  for (const auto& [id, doc] : manifest.documents()) {
    if (doc.status() == kDocFailed) groups[{doc.failed_pass(), doc.error_class()}].push_back(&doc);
  }
  std::vector<FailureGroup> out;
  out.reserve(groups.size());
  for (auto& [key, documents] : groups) {
    std::sort(documents.begin(), documents.end(), [](const DocumentRecord* a, const DocumentRecord* b) {
      return std::tie(a->source(), a->path(), a->error()) < std::tie(b->source(), b->path(), b->error());
    });
    out.push_back({key.first, key.second, std::move(documents)});
  }
  return out;
}

std::string ResumeCommand(const Manifest& manifest, const std::string& status, const std::filesystem::path& config_file,
                          const std::filesystem::path& job_dir) {
  std::string from;
  for (const auto& [id, doc] : manifest.documents()) {
    if (doc.status() == kDocFailed && (from.empty() || doc.failed_pass() < from)) from = doc.failed_pass();
  }
  const bool interrupted = status == kJobFailed || status == kJobCancelled;
  std::string flag = interrupted || from.empty() ? "--resume" : "--resume-from " + from;
  return "ingest-coordinator run --config " + config_file.string() + " --job-dir " + job_dir.string() + " " + flag;
}

std::string RenderFailureReport(const FailureReportInput& input) {
  const RunSummary& s = input.summary;
  std::ostringstream out;
  out << "# Ingestion run " << s.run_id() << ": " << s.status() << "\n\n";
  out << "| | |\n|---|---|\n";
  out << "| env | " << s.env() << " |\n";
  out << "| job | " << s.job_id() << " |\n";
  out << "| status | " << s.status() << " (exit " << s.exit_code() << ") |\n";
  out << "| started | " << FormatTimestamp(input.started) << " |\n";
  out << "| duration | " << fmt::format("{:.1f}", s.duration_s()) << " s |\n";
  out << "| documents | " << s.documents().processed() << " processed, " << s.documents().unchanged() << " unchanged, "
      << s.documents().failed() << " failed, " << s.documents().quarantined() << " quarantined |\n\n";

  if (!input.run_errors.empty()) {
    out << "## Run failures\n\n";
    for (const std::string& e : input.run_errors) out << "- " << e << "\n";
    out << "\n";
  }

  const std::vector<FailureGroup> groups = GroupFailures(input.manifest);
  if (!groups.empty()) {
    out << "## Failed documents (" << s.documents().failed() << ")\n\n";
    for (const FailureGroup& group : groups) {
      out << "### Pass " << group.pass << " — " << (group.error_class.empty() ? "unknown" : group.error_class) << " ("
          << group.documents.size() << ")\n\n";
      for (const DocumentRecord* doc : group.documents) {
        out << "- `" << doc->source() << "/" << doc->path() << "`: " << doc->error() << "\n";
      }
      out << "\n";
    }
  }
  if (s.quarantined_size() > 0) {
    out << "## Quarantined (skipped until they change)\n\n";
    for (const std::string& q : s.quarantined()) out << "- `" << q << "`\n";
    out << "\n";
  }
  out << "## Changes detected\n\n"
      << s.documents().new_() << " new, " << s.documents().changed() << " changed, " << s.documents().deleted()
      << " deleted.\n\n";
  out << "## Files\n\n";
  out << "- manifest: `" << (input.job_dir / kManifestFileName).string() << "`\n";
  out << "- log: `" << (input.job_dir / "run.ndjson").string() << "`\n\n";
  out << "## Resume\n\n```\n"
      << ResumeCommand(input.manifest, s.status(), input.config_file, input.job_dir) << "\n```\n";
  if (input.ai_requested) {
    out << "\n## AI Consolidated Report\n\n";
    if (input.ai_error.empty()) {
      out << input.ai_text << (input.ai_text.ends_with('\n') ? "" : "\n");
    } else {
      out << "_Not available: " << input.ai_error << ". The sections above are complete without it._\n";
    }
  }
  return out.str();
}

Result<std::filesystem::path> WriteFailureReport(const std::filesystem::path& report_dir,
                                                 const FailureReportInput& input) {
  std::error_code ec;
  std::filesystem::create_directories(report_dir, ec);
  if (ec) return ErrnoStatus(ec.value(), "report_dir " + report_dir.string());
  const std::filesystem::path path = report_dir / ("RUN-" + FormatCompactUtc(input.started) + ".md");
  INGEST_RETURN_IF_ERROR(WriteFileAtomic(path, Redact(RenderFailureReport(input))));
  return path;
}

}  // namespace ingest
