#pragma once

// A real HTTP server on 127.0.0.1 (cpp-httplib) for tests: answers with
// handlers a test sets per path and records every request it receives.

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace httplib {
class Server;
}

namespace ingest::testing {

struct RecordedRequest {
  std::string method;
  std::string path;                            // without the query
  std::map<std::string, std::string> params;   // the query's parameters
  std::map<std::string, std::string> headers;  // names lower-cased
  std::string body;
  std::chrono::steady_clock::time_point at;
  std::string Header(const std::string& name) const {
    auto it = headers.find(name);
    return it == headers.end() ? "" : it->second;
  }
  std::string Param(const std::string& name) const {
    auto it = params.find(name);
    return it == params.end() ? "" : it->second;
  }
};

struct Reply {
  int status = 200;
  std::string body;
  std::string content_type = "text/plain";
  std::map<std::string, std::string> headers;
};

class HttpRecorder {
 public:
  // Binds a free loopback port and serves on its own thread.
  HttpRecorder();
  ~HttpRecorder();
  HttpRecorder(const HttpRecorder&) = delete;
  HttpRecorder& operator=(const HttpRecorder&) = delete;

  int port() const { return port_; }
  std::string url(const std::string& path) const;

  // Answers requests to `path` (any method); `handler` sees the request and
  // every earlier one to that path. Unhandled paths get 404.
  using Handler = std::function<Reply(const RecordedRequest& request, size_t count)>;
  void Handle(const std::string& path, Handler handler);

  std::vector<RecordedRequest> Requests(const std::string& path) const;
  void Clear();

 private:
  std::unique_ptr<httplib::Server> server_;
  std::thread thread_;
  int port_ = 0;
  mutable std::mutex mutex_;
  std::map<std::string, Handler> handlers_;
  std::vector<RecordedRequest> requests_;
};

}  // namespace ingest::testing
