#include "common/fleet_protocol.h"

#include <google/protobuf/unknown_field_set.h>

#include "common/utf8.h"

namespace ingest {
namespace {

using google::protobuf::UnknownField;
using google::protobuf::UnknownFieldSet;

// The first field `number` of wire type `type` in `fields`, if any.
const UnknownField* FindField(const UnknownFieldSet& fields, int number, UnknownField::Type type) {
  for (int i = 0; i < fields.field_count(); ++i) {
    if (fields.field(i).number() == number && fields.field(i).type() == type) return &fields.field(i);
  }
  return nullptr;
}

}  // namespace

std::string EncodeEnvelope(Envelope envelope) {
  envelope.set_protocol_version(kProtocolVersion);
  std::string out;
  envelope.SerializeToString(&out);
  return out;
}

Result<Envelope> DecodeEnvelope(std::string_view frame) {
  Envelope envelope;
  if (!envelope.ParseFromArray(frame.data(), static_cast<int>(frame.size()))) {
    return InvalidArgument("frame of " + std::to_string(frame.size()) + " bytes does not parse");
  }
  if (envelope.protocol_version() != kProtocolVersion) {
    return FailedPrecondition("protocol version " + std::to_string(envelope.protocol_version()) + ", expected " +
                              std::to_string(kProtocolVersion));
  }
  if (envelope.body_case() == Envelope::BODY_NOT_SET) return InvalidArgument("envelope without a body");
  return envelope;
}

std::optional<SalvagedTasks> SalvageTasks(std::string_view frame, const Status& why) {
  // Read schemaless: what failed the typed parse does not fail this one.
  UnknownFieldSet envelope;
  if (!envelope.ParseFromArray(frame.data(), static_cast<int>(frame.size()))) return std::nullopt;
  const UnknownField* version = FindField(envelope, Envelope::kProtocolVersionFieldNumber, UnknownField::TYPE_VARINT);
  if (version == nullptr || version->varint() != kProtocolVersion) return std::nullopt;
  std::vector<const std::string*> encoded;
  if (const UnknownField* task = FindField(envelope, Envelope::kTaskFieldNumber, UnknownField::TYPE_LENGTH_DELIMITED)) {
    encoded.push_back(&task->length_delimited());
  }
  UnknownFieldSet batch;
  if (const UnknownField* tasks = FindField(envelope, Envelope::kTasksFieldNumber, UnknownField::TYPE_LENGTH_DELIMITED);
      tasks != nullptr && batch.ParseFromString(tasks->length_delimited())) {
    for (int i = 0; i < batch.field_count(); ++i) {
      const UnknownField& field = batch.field(i);
      if (field.number() == TaskBatch::kTasksFieldNumber && field.type() == UnknownField::TYPE_LENGTH_DELIMITED) {
        encoded.push_back(&field.length_delimited());
      }
    }
  }
  if (encoded.empty()) return std::nullopt;
  SalvagedTasks salvaged;
  for (const std::string* bytes : encoded) {
    Task task;
    if (task.ParseFromString(*bytes)) {
      salvaged.tasks.push_back(std::move(task));
      continue;
    }
    UnknownFieldSet fields;
    if (!fields.ParseFromString(*bytes)) continue;
    const UnknownField* id = FindField(fields, Task::kTaskIdFieldNumber, UnknownField::TYPE_LENGTH_DELIMITED);
    if (id == nullptr || id->length_delimited().empty() || !IsValidUtf8(id->length_delimited())) continue;
    const UnknownField* attempt = FindField(fields, Task::kAttemptFieldNumber, UnknownField::TYPE_VARINT);
    TaskResult& refusal = salvaged.refused.emplace_back();
    refusal.set_task_id(id->length_delimited());
    refusal.set_attempt(attempt == nullptr ? 0 : static_cast<uint32_t>(attempt->varint()));
    refusal.mutable_error()->set_error_class(ERROR_CLASS_PERMANENT);
    refusal.mutable_error()->set_kind("unreadable_task");
    refusal.mutable_error()->set_message("the worker could not read the task: " + why.message());
  }
  if (salvaged.tasks.empty() && salvaged.refused.empty()) return std::nullopt;
  return salvaged;
}

}  // namespace ingest
