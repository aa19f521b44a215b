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

}  // namespace ingest
