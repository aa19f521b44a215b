#pragma once

#include <memory>
#include <string>

#include "common/config.h"
#include "common/status.h"

namespace ingest {

class HttpEndpoint;
class RunRegistry;
struct WebState;

// The read-only status page (README, "Status page") on web.listen, served
// by the coordinator's embedded HTTP server: the pages /, /runs/{id},
// /workers and /schedule, and under /api/ the JSON they are made from,
// the admin API's messages. Reads only, through `registry`.
//
// Access follows the admin API's rules: with admin.token_file set, every
// page and API call needs the read or the operate token, as an
// `Authorization: Bearer` header or through the sign-in form, which sets a
// session cookie; without a token the page listens on loopback only.
class WebServer {
 public:
  // `registry` must outlive the server. Errors name the key or the file.
  static Result<std::unique_ptr<WebServer>> Start(const Config& config, RunRegistry& registry);
  // Start, or null when web.listen is not set.
  static Result<std::unique_ptr<WebServer>> StartIfListening(const Config& config, RunRegistry& registry);
  ~WebServer();
  WebServer(const WebServer&) = delete;
  WebServer& operator=(const WebServer&) = delete;

  // "host:port" as bound.
  const std::string& address() const;
  void Stop();

 private:
  WebServer();

  std::unique_ptr<WebState> state_;
  std::unique_ptr<HttpEndpoint> endpoint_;
};

}  // namespace ingest
