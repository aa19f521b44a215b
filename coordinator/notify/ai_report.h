#pragma once

#include <string>

#include "common/config.h"
#include "common/status.h"
#include "coordinator/notify/failure_report.h"

namespace ingest {

// Asks an OpenAI-compatible endpoint ({ai_report.base_url}/chat/completions,
// bearer `api_key`, ai_report.model, within ai_report.timeout_s) to
// consolidate a failure report: likely causes, what the failures share,
// what to do first. Returns the answer's text. Errors say what went wrong
// without the key or the URL.
Result<std::string> ConsolidateFailures(const AiReportConfig& config, const std::string& api_key,
                                        const std::string& report_markdown);

// With OPENAI_API_KEY set, asks for the "AI Consolidated Report" section of
// the failure report `input` describes (already redacted) and puts the
// answer, or why there is none, into `input`. Without the key it does
// nothing. Never fails the report.
void AddAiSection(const AiReportConfig& config, FailureReportInput& input);

}  // namespace ingest
