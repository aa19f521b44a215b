#include "tests/testing/http_recorder.h"

#include <httplib.h>

#include <algorithm>

namespace ingest::testing {

HttpRecorder::HttpRecorder() : server_(std::make_unique<httplib::Server>()) {
  auto serve = [this](const httplib::Request& req, httplib::Response& res) {
    RecordedRequest recorded;
    recorded.method = req.method;
    recorded.path = req.path;
    for (const auto& [name, value] : req.params) recorded.params[name] = value;
    for (const auto& [name, value] : req.headers) {
      std::string lower = name;
      std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
      recorded.headers[lower] = value;
    }
    recorded.body = req.body;
    recorded.at = std::chrono::steady_clock::now();
    Handler handler;
    size_t count = 0;
    {
      std::lock_guard lock(mutex_);
      requests_.push_back(recorded);
      for (const RecordedRequest& r : requests_) count += r.path == req.path ? 1 : 0;
      if (auto it = handlers_.find(req.path); it != handlers_.end()) handler = it->second;
    }
    Reply reply = handler ? handler(recorded, count) : Reply{404, "not found\n"};
    res.status = reply.status;
    for (const auto& [name, value] : reply.headers) res.set_header(name, value);
    if (reply.status != 304) res.set_content(reply.body, reply.content_type);
  };
  server_->Get(".*", serve);
  server_->Post(".*", serve);
  server_->set_keep_alive_max_count(1);
  port_ = server_->bind_to_any_port("127.0.0.1");
  thread_ = std::thread([this] { server_->listen_after_bind(); });
}

HttpRecorder::~HttpRecorder() {
  server_->stop();
  if (thread_.joinable()) thread_.join();
}

std::string HttpRecorder::url(const std::string& path) const {
  return "http://127.0.0.1:" + std::to_string(port_) + path;
}

void HttpRecorder::Handle(const std::string& path, Handler handler) {
  std::lock_guard lock(mutex_);
  handlers_[path] = std::move(handler);
}

std::vector<RecordedRequest> HttpRecorder::Requests(const std::string& path) const {
  std::lock_guard lock(mutex_);
  std::vector<RecordedRequest> out;
  for (const RecordedRequest& r : requests_) {
    if (r.path == path) out.push_back(r);
  }
  return out;
}

void HttpRecorder::Clear() {
  std::lock_guard lock(mutex_);
  requests_.clear();
}

}  // namespace ingest::testing
