#pragma once

#include "common/status.h"
#include "proto/fleet.pb.h"

namespace ingest {

// Fetches one page of an http source with libcurl: a conditional GET
// (If-None-Match / If-Modified-Since from the request), redirects followed
// (at most 5, http and https only), a total timeout and a body size limit.
//
// Errors carry the class the fleet retries on: a 5xx, 408, 429, a timeout or
// a connection failure is Unavailable (transient, retried with backoff by
// the coordinator); 404/410 NotFound, 401/403 PermissionDenied, other 4xx
// InvalidArgument and a body over max_bytes OutOfRange are permanent.
Result<FetchResult> FetchPage(const FetchRequest& request);

}  // namespace ingest
