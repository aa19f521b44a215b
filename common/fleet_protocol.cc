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

std::optional<Envelope> RefuseUnreadableTask(std::string_view frame, const Status& why) {
  // Read schemaless: what failed the typed parse does not fail this one.
  UnknownFieldSet envelope;
  if (!envelope.ParseFromArray(frame.data(), static_cast<int>(frame.size()))) return std::nullopt;
  const UnknownField* task_field = FindField(envelope, Envelope::kTaskFieldNumber, UnknownField::TYPE_LENGTH_DELIMITED);
  if (task_field == nullptr) return std::nullopt;
  UnknownFieldSet task;
  if (!task.ParseFromString(task_field->length_delimited())) return std::nullopt;
  const UnknownField* id = FindField(task, Task::kTaskIdFieldNumber, UnknownField::TYPE_LENGTH_DELIMITED);
  if (id == nullptr || id->length_delimited().empty() || !IsValidUtf8(id->length_delimited())) return std::nullopt;
  const UnknownField* attempt = FindField(task, Task::kAttemptFieldNumber, UnknownField::TYPE_VARINT);
  Envelope refusal;
  TaskResult* result = refusal.mutable_result();
  result->set_task_id(id->length_delimited());
  result->set_attempt(attempt == nullptr ? 0 : static_cast<uint32_t>(attempt->varint()));
  result->mutable_error()->set_error_class(ERROR_CLASS_PERMANENT);
  result->mutable_error()->set_kind("unreadable_task");
  result->mutable_error()->set_message("the worker could not read the task: " + why.message());
  return refusal;
}

}  // namespace ingest
