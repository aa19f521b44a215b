#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "common/ids.h"
#include "common/status.h"
#include "proto/manifest.pb.h"

namespace ingest {

// What the consolidated failure report of one run is made from.
struct FailureReportInput {
  const Manifest& manifest;  // documents carry failed_pass, error_class, error
  const RunSummary& summary;
  // Failures of the run itself rather than of a document: a pass whose gate
  // or contract failed, an unreadable source, the failure budget.
  std::vector<std::string> run_errors;
  std::filesystem::path config_file;
  std::filesystem::path job_dir;
  WallTime started;
  // The "AI Consolidated Report" section: asked for when OPENAI_API_KEY is
  // set; `ai_text` is the answer, `ai_error` why there is none.
  bool ai_requested = false;
  std::string ai_text;
  std::string ai_error;
};

// The failed documents of one pass with one error class ("" when none was
// given); pointers into the manifest they came from.
struct FailureGroup {
  std::string pass;
  std::string error_class;
  std::vector<const DocumentRecord*> documents;  // by source, then path
};

// The manifest's failed documents by (pass, error class), in that order.
std::vector<FailureGroup> GroupFailures(const Manifest& manifest);

// The command that continues the job of a run that ended with `status`
// (SPEC §4's words): a failed or cancelled run resumes where it stopped; a
// partial one reruns from the first pass a document failed in, which
// retries those documents.
std::string ResumeCommand(const Manifest& manifest, const std::string& status, const std::filesystem::path& config_file,
                          const std::filesystem::path& job_dir);

// The report in Markdown (SPEC §11): run, env, status, duration; failed
// documents grouped by pass and error class with counts and every
// instance; changes detected; where the manifest and log are; the exact
// command that resumes the job. The same input gives the same text.
std::string RenderFailureReport(const FailureReportInput& input);

// Writes {report_dir}/RUN-YYYYMMDD_HHMMSS.md atomically, secrets and e-mail
// addresses redacted; returns its path.
Result<std::filesystem::path> WriteFailureReport(const std::filesystem::path& report_dir,
                                                 const FailureReportInput& input);

}  // namespace ingest
