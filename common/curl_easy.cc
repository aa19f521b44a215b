#include "common/curl_easy.h"

#include <dlfcn.h>

#include <cstdarg>

namespace ingest {
namespace {

// libcurl is opened on first use instead of linked: it brings some thirty
// shared libraries (TLS, Kerberos, LDAP, SSH, IDN) whose loading was a fifth
// of every coordinator start, and most runs send nothing over HTTP. The
// functions our code calls are defined below under libcurl's own names and
// forward to the library once it is open, so callers use libcurl's API as
// documented.
struct CurlLibrary {
  std::string error;  // why the library is not usable; empty when it is
  decltype(&::curl_easy_init) easy_init = nullptr;
  decltype(&::curl_easy_cleanup) easy_cleanup = nullptr;
  decltype(&::curl_easy_setopt) easy_setopt = nullptr;
  decltype(&::curl_easy_getinfo) easy_getinfo = nullptr;
  decltype(&::curl_easy_perform) easy_perform = nullptr;
  decltype(&::curl_easy_strerror) easy_strerror = nullptr;
  decltype(&::curl_slist_append) slist_append = nullptr;
  decltype(&::curl_slist_free_all) slist_free_all = nullptr;
};

template <typename Function>
bool Resolve(void* handle, const char* name, Function& function, std::string& error) {
  function = reinterpret_cast<Function>(dlsym(handle, name));
  if (function == nullptr && error.empty()) error = std::string("libcurl.so.4 has no ") + name;
  return function != nullptr;
}

CurlLibrary Open() {
  CurlLibrary library;
  // Never closed: handles and the global state live until the process ends.
  void* handle = dlopen("libcurl.so.4", RTLD_NOW | RTLD_LOCAL);
  if (handle == nullptr) {
    library.error = std::string("cannot load libcurl.so.4 (Debian package libcurl4): ") + dlerror();
    return library;
  }
  decltype(&::curl_global_init) global_init = nullptr;
  std::string& error = library.error;
  const bool found = Resolve(handle, "curl_global_init", global_init, error) &&
                     Resolve(handle, "curl_easy_init", library.easy_init, error) &&
                     Resolve(handle, "curl_easy_cleanup", library.easy_cleanup, error) &&
                     Resolve(handle, "curl_easy_setopt", library.easy_setopt, error) &&
                     Resolve(handle, "curl_easy_getinfo", library.easy_getinfo, error) &&
                     Resolve(handle, "curl_easy_perform", library.easy_perform, error) &&
                     Resolve(handle, "curl_easy_strerror", library.easy_strerror, error) &&
                     Resolve(handle, "curl_slist_append", library.slist_append, error) &&
                     Resolve(handle, "curl_slist_free_all", library.slist_free_all, error);
  // The global init is not thread-safe; a function-local static runs it once.
  if (found && global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) error = "libcurl's global init failed";
  // Without its pointers, so every forwarder answers as for a failed init.
  if (!error.empty()) return CurlLibrary{.error = error};
  return library;
}

const CurlLibrary& Library() {
  static const CurlLibrary library = Open();
  return library;
}

template <typename Value>
CURLcode SetOption(CURL* curl, CURLoption option, va_list args) {
  return Library().easy_setopt(curl, option, va_arg(args, Value));
}

}  // namespace

Result<CurlEasy> NewCurlEasy() {
  const CurlLibrary& library = Library();
  if (!library.error.empty()) return Internal("libcurl: " + library.error);
  CurlEasy curl(library.easy_init());
  if (!curl) return Internal("libcurl: cannot create a handle");
  return curl;
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

// The libcurl entry points our code calls, forwarded (handles are made by
// NewCurlEasy alone, so curl_easy_init is not among them). Each answers as
// libcurl does for a failed init when the library is not usable. The
// variadic ones' names are in parentheses: curl.h defines them as
// type-checking macros too.
extern "C" {
#if defined(__clang__)
#pragma clang diagnostic push
#pragma clang diagnostic ignored "-Wvarargs"
#endif

void curl_easy_cleanup(CURL* curl) {
  if (curl != nullptr) ingest::Library().easy_cleanup(curl);
}

// The one argument after the option is read with the type the option's
// number range gives it (curl.h's CURLOPTTYPE_*), as libcurl reads it. The
// signature is libcurl's own: its enums are int-sized, so va_start on one is
// safe (clang's -Wvarargs warns of enums in general).
CURLcode(curl_easy_setopt)(CURL* curl, CURLoption option, ...) {
  if (ingest::Library().easy_setopt == nullptr) return CURLE_FAILED_INIT;
  va_list args;
  va_start(args, option);
  CURLcode code;
  switch (option - option % 10000) {
    case CURLOPTTYPE_LONG:
      code = ingest::SetOption<long>(curl, option, args);
      break;
    case CURLOPTTYPE_FUNCTIONPOINT:
      code = ingest::SetOption<void (*)()>(curl, option, args);
      break;
    case CURLOPTTYPE_OFF_T:
      code = ingest::SetOption<curl_off_t>(curl, option, args);
      break;
    default:  // object pointers, strings, lists, blobs
      code = ingest::SetOption<void*>(curl, option, args);
      break;
  }
  va_end(args);
  return code;
}

// Every CURLINFO_* is answered through a pointer.
CURLcode(curl_easy_getinfo)(CURL* curl, CURLINFO info, ...) {
  const auto& library = ingest::Library();
  if (library.easy_getinfo == nullptr) return CURLE_FAILED_INIT;
  va_list args;
  va_start(args, info);
  const CURLcode code = library.easy_getinfo(curl, info, va_arg(args, void*));
  va_end(args);
  return code;
}

CURLcode curl_easy_perform(CURL* curl) {
  const auto& library = ingest::Library();
  return library.easy_perform != nullptr ? library.easy_perform(curl) : CURLE_FAILED_INIT;
}

const char* curl_easy_strerror(CURLcode code) {
  const auto& library = ingest::Library();
  return library.easy_strerror != nullptr ? library.easy_strerror(code) : "libcurl is not loaded";
}

curl_slist* curl_slist_append(curl_slist* list, const char* item) {
  const auto& library = ingest::Library();
  return library.slist_append != nullptr ? library.slist_append(list, item) : nullptr;
}

void curl_slist_free_all(curl_slist* list) {
  if (list != nullptr) ingest::Library().slist_free_all(list);
}

#if defined(__clang__)
#pragma clang diagnostic pop
#endif
}  // extern "C"
