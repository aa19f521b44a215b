#pragma once

#include <grpcpp/support/status.h>

#include "common/status.h"

namespace ingest {

// Our Status as gRPC's: the codes are gRPC's already (common/status.h), so
// this is the one place where the two meet.
grpc::Status ToGrpcStatus(const Status& status);

}  // namespace ingest
