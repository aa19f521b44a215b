#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "proto/fleet.pb.h"

namespace ingest {

// Bumped on any incompatible change of proto/fleet.proto semantics.
inline constexpr uint32_t kProtocolVersion = 4;

// Largest frame either side accepts; larger ones are dropped unread.
inline constexpr int64_t kMaxFrameBytes = int64_t{256} << 20;

// Serializes `envelope` with the protocol version stamped in.
std::string EncodeEnvelope(Envelope envelope);

// Parses a frame. InvalidArgument when it does not parse or has no body;
// FailedPrecondition when the protocol version differs (the caller REJECTs).
Result<Envelope> DecodeEnvelope(std::string_view frame);

// What a worker makes of a frame that did not decode but carries tasks (a
// TASK or TASKS body), say because one task's path is not UTF-8, which proto3
// refuses: each task that parses on its own is kept to run, and each other
// one whose id can be read is refused permanently (kind "unreadable_task"),
// so the coordinator never waits out the timeout of a task that was dropped.
// nullopt when the frame carries no task of this protocol version.
struct SalvagedTasks {
  std::vector<Task> tasks;
  std::vector<TaskResult> refused;
};
std::optional<SalvagedTasks> SalvageTasks(std::string_view frame, const Status& why);

}  // namespace ingest
