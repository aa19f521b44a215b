#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <thread>

#include "common/status.h"

namespace httplib {
class Server;
}  // namespace httplib

namespace ingest {

// One listening cpp-httplib server and the thread that runs it: what
// /metrics and the status page are served from. Stop() (or the destructor)
// ends its threads.
class HttpEndpoint {
 public:
  // Binds `server`, whose routes are set, to `listen` ("host:port" or
  // "[v6]:port"; port 0 picks a free one) and serves it. `key` names the
  // config key in errors: InvalidArgument for a malformed address,
  // Unavailable when it cannot be bound.
  static Result<std::unique_ptr<HttpEndpoint>> Start(std::unique_ptr<httplib::Server> server, const std::string& listen,
                                                     std::string_view key);
  ~HttpEndpoint();
  HttpEndpoint(const HttpEndpoint&) = delete;
  HttpEndpoint& operator=(const HttpEndpoint&) = delete;

  // "host:port" as bound.
  const std::string& address() const { return address_; }
  void Stop();

 private:
  HttpEndpoint() = default;

  std::unique_ptr<httplib::Server> server_;
  std::thread thread_;
  std::string address_;
};

}  // namespace ingest
