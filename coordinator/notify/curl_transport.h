#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "common/status.h"

namespace ingest {

// The coordinator's outbound calls over libcurl: notifications, health
// pings, the AI report. Errors never include the URL (it may carry a token);
// callers name the channel instead.

struct HttpCall {
  std::string method = "POST";  // GET | POST | PUT
  std::string url;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  std::chrono::milliseconds timeout{10000};
};

struct HttpAnswer {
  long status = 0;
  std::string body;
  // The answer's Retry-After (seconds or an HTTP date), as a wait from now.
  std::optional<std::chrono::seconds> retry_after;
};

// One request; any HTTP answer is returned, whatever its status.
// Unavailable for connection errors and timeouts.
Result<HttpAnswer> ExchangeHttp(const HttpCall& call);
// As ExchangeHttp, but a non-2xx answer is an error as HttpAnswerStatus
// classifies it.
Result<HttpAnswer> PerformHttp(const HttpCall& call);

struct MailMessage {
  std::string smtp_url;  // smtp://host:port or smtps://host:port
  std::string starttls;  // required | optional | off
  std::string username;
  std::string password;
  std::string from;
  std::vector<std::string> to;
  std::string content;  // headers and body, CRLF line ends
  std::chrono::milliseconds timeout{10000};
};

// Sends one message over SMTP. Unavailable when the server cannot be
// reached or answers with a temporary error; other failures (STARTTLS
// required but not offered, login refused, recipient refused)
// FailedPrecondition.
Status SendMail(const MailMessage& message);

}  // namespace ingest
