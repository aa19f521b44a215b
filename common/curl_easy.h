#pragma once

#include <curl/curl.h>

#include <memory>
#include <string>

#include "common/status.h"

namespace ingest {

// Owning handles of libcurl's easy interface, shared by the workers' page
// fetches and the coordinator's notifications.
struct CurlEasyDeleter {
  void operator()(CURL* curl) const { curl_easy_cleanup(curl); }
};
struct CurlListDeleter {
  void operator()(curl_slist* list) const { curl_slist_free_all(list); }
};
using CurlEasy = std::unique_ptr<CURL, CurlEasyDeleter>;
using CurlList = std::unique_ptr<curl_slist, CurlListDeleter>;

// A new easy handle. The first call opens libcurl (it is loaded on first
// use, not linked) and runs its global init; the error names what failed
// (the library missing from this machine, most likely).
Result<CurlEasy> NewCurlEasy();

// Appends `item` (a header line, a recipient) to `list`.
void AppendCurlList(CurlList& list, const std::string& item);

// The Status of a non-2xx HTTP answer, "PREFIX: HTTP CODE" ("HTTP CODE"
// without a prefix): 5xx, 408 and 429 are Unavailable (worth another try),
// 404/410 NotFound, 401/403 PermissionDenied, any other InvalidArgument.
Status HttpAnswerStatus(long code, const std::string& prefix = "");

}  // namespace ingest
