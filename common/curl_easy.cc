#include "common/curl_easy.h"

#include <mutex>

namespace ingest {

CurlEasy NewCurlEasy() {
  static std::once_flag init;
  std::call_once(init, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
  return CurlEasy(curl_easy_init());
}

void AppendCurlList(CurlList& list, const std::string& item) {
  list.reset(curl_slist_append(list.release(), item.c_str()));
}

Status HttpAnswerStatus(long code, const std::string& prefix) {
  const std::string message = (prefix.empty() ? "" : prefix + ": ") + "HTTP " + std::to_string(code);
  if (code >= 500 || code == 408 || code == 429) return Unavailable(message);
  if (code == 404 || code == 410) return NotFound(message);
  if (code == 401 || code == 403) return PermissionDenied(message);
  return InvalidArgument(message);
}

}  // namespace ingest
