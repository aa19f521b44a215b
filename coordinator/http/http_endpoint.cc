#include "coordinator/http/http_endpoint.h"

#include <httplib.h>

#include <charconv>

#include "common/host_port.h"

namespace ingest {

Result<std::unique_ptr<HttpEndpoint>> HttpEndpoint::Start(std::unique_ptr<httplib::Server> server,
                                                          const std::string& listen, std::string_view key) {
  auto [host, port_text] = SplitHostPort(listen);
  int port = -1;
  if (!host.empty() && !port_text.empty()) {
    const char* last = port_text.data() + port_text.size();
    auto [end, ec] = std::from_chars(port_text.data(), last, port);
    if (ec != std::errc() || end != last || port > 65535) port = -1;
  }
  const std::string where = std::string(key) + " '" + listen + "'";
  if (port < 0) return InvalidArgument(where + ": expected host:port");
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);

  std::unique_ptr<HttpEndpoint> endpoint(new HttpEndpoint());
  endpoint->server_ = std::move(server);
  int bound = port;
  if (port == 0) {
    bound = endpoint->server_->bind_to_any_port(host);
  } else if (!endpoint->server_->bind_to_port(host, port)) {
    bound = -1;
  }
  if (bound <= 0) return Unavailable(where + ": cannot listen there (in use, or not this host's)");
  endpoint->address_ = (host.find(':') != std::string::npos ? "[" + host + "]" : host) + ":" + std::to_string(bound);
  httplib::Server* raw = endpoint->server_.get();
  endpoint->thread_ = std::thread([raw] { raw->listen_after_bind(); });
  return endpoint;
}

void HttpEndpoint::Stop() {
  if (server_) server_->stop();
  if (thread_.joinable()) thread_.join();
}

HttpEndpoint::~HttpEndpoint() { Stop(); }

}  // namespace ingest
