#include "coordinator/notify/failure_report.h"

#include <fmt/format.h>

#include <map>
#include <sstream>
#include <tuple>

#include "common/atomic_file.h"
#include "common/manifest.h"
#include "common/redact.h"

namespace ingest {
namespace {

// The command that continues this job: a failed run resumes where it
// stopped; a partial one reruns from the first pass a document failed in,
// which retries those documents.
std::string ResumeCommand(const FailureReportInput& input) {
  std::string from;
  for (const auto& [id, doc] : input.manifest.documents()) {
    if (doc.status() == kDocFailed && (from.empty() || doc.failed_pass() < from)) from = doc.failed_pass();
  }
  const bool interrupted = input.summary.status() == kJobFailed || input.summary.status() == kJobCancelled;
  std::string flag = interrupted || from.empty() ? "--resume" : "--resume-from " + from;
  return "ingest-coordinator run --config " + input.config_file.string() + " --job-dir " + input.job_dir.string() +
         " " + flag;
}

}  // namespace

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

  // (pass, error class) -> "source/path: message", sorted for a stable report.
  std::map<std::pair<std::string, std::string>, std::vector<std::string>> groups;
  for (const auto& [id, doc] : input.manifest.documents()) {
    if (doc.status() != kDocFailed) continue;
    groups[{doc.failed_pass(), doc.error_class()}].push_back("`" + doc.source() + "/" + doc.path() +
                                                             "`: " + doc.error());
  }
  if (!groups.empty()) {
    out << "## Failed documents (" << s.documents().failed() << ")\n\n";
    for (auto& [key, instances] : groups) {
      std::sort(instances.begin(), instances.end());
      out << "### Pass " << key.first << " — " << (key.second.empty() ? "unknown" : key.second) << " ("
          << instances.size() << ")\n\n";
      for (const std::string& i : instances) out << "- " << i << "\n";
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
  out << "## Resume\n\n```\n" << ResumeCommand(input) << "\n```\n";
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
