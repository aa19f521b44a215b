#pragma once

#include <string>
#include <string_view>

#include <google/protobuf/message.h>

#include "common/status.h"

namespace ingest {

// Canonical single-line JSON of `message`: original field names, every
// primitive field printed (so records have a fixed shape), no whitespace.
std::string ToJson(const google::protobuf::Message& message);
// Indented form for files people read (manifest).
std::string ToPrettyJson(const google::protobuf::Message& message);

// Strict parse: unknown fields and type mismatches are InvalidArgument.
Status FromJson(std::string_view json, google::protobuf::Message* message);

}  // namespace ingest
