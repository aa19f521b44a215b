#include "coordinator/ai_report.h"

#include <google/protobuf/struct.pb.h>

#include "common/proto_json.h"
#include "coordinator/curl_transport.h"

namespace ingest {
namespace {

using google::protobuf::Struct;
using google::protobuf::Value;

constexpr char kInstructions[] =
    "You help the operators of a nightly document ingestion pipeline. Below is the consolidated failure "
    "report of one run, with failures grouped by pass and error class. Write a short consolidated report in "
    "Markdown: the likely root causes, which failures share a cause, and what to do first. Do not repeat "
    "every instance.";

Value Message(const std::string& role, const std::string& content) {
  Value v;
  (*v.mutable_struct_value()->mutable_fields())["role"].set_string_value(role);
  (*v.mutable_struct_value()->mutable_fields())["content"].set_string_value(content);
  return v;
}

const Value* Field(const Value& v, const std::string& name) {
  if (!v.has_struct_value()) return nullptr;
  auto it = v.struct_value().fields().find(name);
  return it == v.struct_value().fields().end() ? nullptr : &it->second;
}

}  // namespace

Result<std::string> ConsolidateFailures(const AiReportConfig& config, const std::string& api_key,
                                        const std::string& report_markdown) {
  Struct request;
  (*request.mutable_fields())["model"].set_string_value(config.model);
  (*request.mutable_fields())["temperature"].set_number_value(0);
  auto* messages = (*request.mutable_fields())["messages"].mutable_list_value();
  *messages->add_values() = Message("system", kInstructions);
  *messages->add_values() = Message("user", report_markdown);
  std::string base = config.base_url;
  while (!base.empty() && base.back() == '/') base.pop_back();
  Result<HttpAnswer> answer = PerformHttp({"POST",
                                           base + "/chat/completions",
                                           {{"Content-Type", "application/json"}, {"Authorization", "Bearer " + api_key}},
                                           ToJson(request),
                                           std::chrono::seconds(config.timeout_s)});
  if (!answer.ok()) return answer.status().WithContext("AI endpoint");
  Value response;
  if (Status parsed = FromJson(answer->body, response.mutable_struct_value()); !parsed.ok()) {
    return InvalidArgument("AI endpoint: the answer is not JSON: " + parsed.message());
  }
  const Value* choices = Field(response, "choices");
  if (choices == nullptr || !choices->has_list_value() || choices->list_value().values_size() == 0) {
    return InvalidArgument("AI endpoint: the answer has no choices");
  }
  const Value* message = Field(choices->list_value().values(0), "message");
  const Value* content = message == nullptr ? nullptr : Field(*message, "content");
  if (content == nullptr || content->kind_case() != Value::kStringValue || content->string_value().empty()) {
    return InvalidArgument("AI endpoint: the first choice has no message content");
  }
  return content->string_value();
}

}  // namespace ingest
