#include "coordinator/notify/curl_transport.h"

#include <cstring>

#include "common/curl_easy.h"

namespace ingest {
namespace {

size_t CollectBody(char* data, size_t size, size_t count, void* user) {
  auto* body = static_cast<std::string*>(user);
  const size_t n = size * count;
  if (body->size() + n > (size_t{4} << 20)) return 0;  // an answer is small; refuse to buffer more
  body->append(data, n);
  return n;
}

// The curl error without the URL: libcurl's own strings name hosts at most.
std::string CurlError(CURLcode rc, const char* buffer) { return buffer[0] != '\0' ? buffer : curl_easy_strerror(rc); }

bool Transient(CURLcode rc) {
  switch (rc) {
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_CONNECT:
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
      return true;
    default:
      return false;
  }
}

struct MailReader {
  std::string_view rest;
};

size_t ReadMail(char* buffer, size_t size, size_t count, void* user) {
  auto* reader = static_cast<MailReader*>(user);
  const size_t n = std::min(size * count, reader->rest.size());
  std::memcpy(buffer, reader->rest.data(), n);
  reader->rest.remove_prefix(n);
  return n;
}

}  // namespace

Result<HttpAnswer> ExchangeHttp(const HttpCall& call) {
  INGEST_ASSIGN_OR_RETURN(CurlEasy curl, NewCurlEasy());
  CURL* h = curl.get();
  CurlList headers;
  for (const auto& [name, value] : call.headers) AppendCurlList(headers, name + ": " + value);
  HttpAnswer answer;
  char error[CURL_ERROR_SIZE] = {0};
  curl_easy_setopt(h, CURLOPT_URL, call.url.c_str());
  curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, static_cast<long>(call.timeout.count()));
  curl_easy_setopt(h, CURLOPT_USERAGENT, "ingestfleet/" INGEST_VERSION);
  curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers.get());
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, CollectBody);
  curl_easy_setopt(h, CURLOPT_WRITEDATA, &answer.body);
  curl_easy_setopt(h, CURLOPT_ERRORBUFFER, error);
  if (call.method == "POST" || call.method == "PUT") {
    curl_easy_setopt(h, CURLOPT_POST, 1L);
    if (call.method == "PUT") curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, "PUT");
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, call.body.data());
    curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(call.body.size()));
  }
  const CURLcode rc = curl_easy_perform(h);
  if (rc != CURLE_OK) {
    const std::string why = CurlError(rc, error);
    return Transient(rc) ? Unavailable(why) : Status(StatusCode::kFailedPrecondition, why);
  }
  curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &answer.status);
  // libcurl parses both forms of the header; 0 when there is none.
  curl_off_t retry_after = 0;
  if (curl_easy_getinfo(h, CURLINFO_RETRY_AFTER, &retry_after) == CURLE_OK && retry_after > 0) {
    answer.retry_after = std::chrono::seconds(retry_after);
  }
  return answer;
}

Result<HttpAnswer> PerformHttp(const HttpCall& call) {
  Result<HttpAnswer> answer = ExchangeHttp(call);
  if (!answer.ok() || (answer->status >= 200 && answer->status < 300)) return answer;
  return HttpAnswerStatus(answer->status);
}

Status SendMail(const MailMessage& message) {
  INGEST_ASSIGN_OR_RETURN(CurlEasy curl, NewCurlEasy());
  CURL* h = curl.get();
  CurlList recipients;
  for (const std::string& to : message.to) AppendCurlList(recipients, "<" + to + ">");
  MailReader reader{message.content};
  char error[CURL_ERROR_SIZE] = {0};
  curl_easy_setopt(h, CURLOPT_URL, message.smtp_url.c_str());
  curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
  curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, static_cast<long>(message.timeout.count()));
  const long tls = message.starttls == "required"   ? CURLUSESSL_ALL
                   : message.starttls == "optional" ? CURLUSESSL_TRY
                                                    : CURLUSESSL_NONE;
  curl_easy_setopt(h, CURLOPT_USE_SSL, tls);
  if (!message.username.empty()) {
    curl_easy_setopt(h, CURLOPT_USERNAME, message.username.c_str());
    curl_easy_setopt(h, CURLOPT_PASSWORD, message.password.c_str());
  }
  const std::string from = "<" + message.from + ">";
  curl_easy_setopt(h, CURLOPT_MAIL_FROM, from.c_str());
  curl_easy_setopt(h, CURLOPT_MAIL_RCPT, recipients.get());
  curl_easy_setopt(h, CURLOPT_READFUNCTION, ReadMail);
  curl_easy_setopt(h, CURLOPT_READDATA, &reader);
  curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
  curl_easy_setopt(h, CURLOPT_ERRORBUFFER, error);
  const CURLcode rc = curl_easy_perform(h);
  if (rc == CURLE_OK) return Status::Ok();
  long reply = 0;
  curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &reply);
  const std::string why = CurlError(rc, error) + (reply > 0 ? " (server reply " + std::to_string(reply) + ")" : "");
  // 4xx replies are temporary in SMTP; 5xx are not.
  if (Transient(rc) || (reply >= 400 && reply < 500)) return Unavailable(why);
  return Status(StatusCode::kFailedPrecondition, why);
}

}  // namespace ingest
