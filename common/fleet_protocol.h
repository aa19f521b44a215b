#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/status.h"
#include "proto/fleet.pb.h"

namespace ingest {

// Bumped on any incompatible change of proto/fleet.proto semantics.
inline constexpr uint32_t kProtocolVersion = 3;

// Largest frame either side accepts; larger ones are dropped unread.
inline constexpr int64_t kMaxFrameBytes = int64_t{256} << 20;

// Serializes `envelope` with the protocol version stamped in.
std::string EncodeEnvelope(Envelope envelope);

// Parses a frame. InvalidArgument when it does not parse or has no body;
// FailedPrecondition when the protocol version differs (the caller REJECTs).
Result<Envelope> DecodeEnvelope(std::string_view frame);

// The answer to a frame that does not parse but still carries a TASK's id
// (say a string field that is not UTF-8): a RESULT failing that attempt
// permanently with kind "unreadable_task", so the coordinator need not wait
// for the task's timeout. nullopt when no task id can be read from it.
std::optional<Envelope> RefuseUnreadableTask(std::string_view frame, const Status& why);

}  // namespace ingest
