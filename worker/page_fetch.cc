#include "worker/page_fetch.h"

#include <string>

#include "common/curl_easy.h"
#include "common/sha256.h"
#include "common/utf8.h"

namespace ingest {
namespace {

struct Received {
  std::string body;
  uint64_t max_bytes = 0;
  bool too_large = false;
  std::string etag;
  std::string last_modified;
};

size_t OnBody(char* data, size_t size, size_t count, void* user) {
  auto* received = static_cast<Received*>(user);
  const size_t n = size * count;
  if (received->body.size() + n > received->max_bytes) {
    received->too_large = true;
    return 0;  // aborts the transfer
  }
  received->body.append(data, n);
  return n;
}

std::string Trimmed(std::string_view text) {
  while (!text.empty() && (text.back() == '\r' || text.back() == '\n' || text.back() == ' ')) text.remove_suffix(1);
  while (!text.empty() && text.front() == ' ') text.remove_prefix(1);
  return std::string(text);
}

// Header lines of every response in a redirect chain arrive here; a status
// line starts a new response, so only the final one's validators remain.
size_t OnHeader(char* data, size_t size, size_t count, void* user) {
  auto* received = static_cast<Received*>(user);
  const size_t n = size * count;
  std::string_view line(data, n);
  if (line.starts_with("HTTP/")) {
    received->etag.clear();
    received->last_modified.clear();
  }
  const size_t colon = line.find(':');
  if (colon == std::string_view::npos) return n;
  const std::string name = AsciiLower(line.substr(0, colon));
  if (name == "etag") received->etag = Trimmed(line.substr(colon + 1));
  if (name == "last-modified") received->last_modified = Trimmed(line.substr(colon + 1));
  return n;
}

}  // namespace

Result<FetchResult> FetchPage(const FetchRequest& request) {
  INGEST_ASSIGN_OR_RETURN(CurlEasy curl, NewCurlEasy());
  Received received;
  received.max_bytes = request.max_bytes() > 0 ? request.max_bytes() : uint64_t{20} << 20;
  CurlList headers;
  if (!request.etag().empty()) AppendCurlList(headers, "If-None-Match: " + request.etag());
  if (!request.last_modified().empty()) AppendCurlList(headers, "If-Modified-Since: " + request.last_modified());
  CURL* h = curl.get();
  curl_easy_setopt(h, CURLOPT_URL, request.url().c_str());
  curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(h, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 1L);
  curl_easy_setopt(h, CURLOPT_MAXREDIRS, 5L);
  curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);  // worker threads: no SIGALRM for DNS timeouts
  curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, static_cast<long>(request.timeout_ms() > 0 ? request.timeout_ms() : 30000));
  curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, 10000L);
  curl_easy_setopt(h, CURLOPT_USERAGENT, "ingestfleet/" INGEST_VERSION);
  curl_easy_setopt(h, CURLOPT_ACCEPT_ENCODING, "");  // whatever this libcurl decodes
  curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers.get());
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, OnBody);
  curl_easy_setopt(h, CURLOPT_WRITEDATA, &received);
  curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, OnHeader);
  curl_easy_setopt(h, CURLOPT_HEADERDATA, &received);
  char error[CURL_ERROR_SIZE] = {0};
  curl_easy_setopt(h, CURLOPT_ERRORBUFFER, error);

  const CURLcode rc = curl_easy_perform(h);
  if (received.too_large) {
    return Status(StatusCode::kOutOfRange,
                  request.url() + ": body exceeds " + std::to_string(received.max_bytes) + " bytes");
  }
  if (rc != CURLE_OK) {
    const std::string why = error[0] != '\0' ? error : curl_easy_strerror(rc);
    if (rc == CURLE_OPERATION_TIMEDOUT) return Unavailable(request.url() + ": timed out: " + why);
    if (rc == CURLE_UNSUPPORTED_PROTOCOL || rc == CURLE_URL_MALFORMAT) {
      return InvalidArgument(request.url() + ": " + why);
    }
    return Unavailable(request.url() + ": " + why);
  }
  long code = 0;
  curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
  FetchResult result;
  result.set_http_status(static_cast<uint32_t>(code));
  if (code == 304) {
    result.set_not_modified(true);
    result.set_etag(received.etag.empty() ? request.etag() : received.etag);
    result.set_last_modified(received.last_modified.empty() ? request.last_modified() : received.last_modified);
    return result;
  }
  if (code < 200 || code >= 300) return HttpAnswerStatus(code, request.url());
  char* content_type = nullptr;
  curl_easy_getinfo(h, CURLINFO_CONTENT_TYPE, &content_type);
  if (content_type != nullptr) result.set_content_type(content_type);
  result.set_checksum(Sha256Hex(received.body));
  result.set_etag(received.etag);
  result.set_last_modified(received.last_modified);
  result.set_body(std::move(received.body));
  return result;
}

}  // namespace ingest
