#include "coordinator/notify/ai_report.h"

#include <spdlog/spdlog.h>

#include <cstdlib>

#include "common/proto_json.h"
#include "common/redact.h"
#include "common/run_log.h"
#include "coordinator/notify/curl_transport.h"
#include "proto/chat.pb.h"

namespace ingest {
namespace {

constexpr char kInstructions[] =
    "You help the operators of a nightly document ingestion pipeline. Below is the consolidated failure "
    "report of one run, with failures grouped by pass and error class. Write a short consolidated report in "
    "Markdown: the likely root causes, which failures share a cause, and what to do first. Do not repeat "
    "every instance.";

std::string Message(const std::string& role, const std::string& content) {
  return JsonObject({{"role", JsonQuote(role)}, {"content", JsonQuote(content)}});
}

}  // namespace

Result<std::string> ConsolidateFailures(const AiReportConfig& config, const std::string& api_key,
                                        const std::string& report_markdown) {
  const std::string request =
      JsonObject({{"model", JsonQuote(config.model)},
                  {"temperature", "0"},
                  {"messages", JsonArray({Message("system", kInstructions), Message("user", report_markdown)})}});
  std::string base = config.base_url;
  while (!base.empty() && base.back() == '/') base.pop_back();
  Result<HttpAnswer> answer =
      PerformHttp({"POST",
                   base + "/chat/completions",
                   {{"Content-Type", "application/json"}, {"Authorization", "Bearer " + api_key}},
                   request,
                   std::chrono::seconds(config.timeout_s)});
  if (!answer.ok()) return answer.status().WithContext("AI endpoint");
  ChatCompletion completion;
  if (Status parsed = FromForeignJson(answer->body, &completion); !parsed.ok()) {
    return InvalidArgument("AI endpoint: the answer is not a chat completion: " + parsed.message());
  }
  if (completion.choices_size() == 0 || completion.choices(0).message().content().empty()) {
    return InvalidArgument("AI endpoint: the answer has no message content");
  }
  return completion.choices(0).message().content();
}

void AddAiSection(const AiReportConfig& config, FailureReportInput& input) {
  const char* key = std::getenv("OPENAI_API_KEY");
  if (key == nullptr || *key == '\0') return;
  input.ai_requested = true;
  spdlog::info("asking the AI endpoint (model {}) for a consolidated report", config.model);
  Result<std::string> answer = ConsolidateFailures(config, key, Redact(RenderFailureReport(input)));
  if (answer.ok()) {
    input.ai_text = *answer;
  } else {
    input.ai_error = answer.status().message();
    LogEvent(spdlog::level::warn, {.status = "ai_report", .error = input.ai_error},
             "AI consolidated report not available: " + input.ai_error);
  }
}

}  // namespace ingest
