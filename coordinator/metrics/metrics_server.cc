#include "coordinator/metrics/metrics_server.h"

#include <httplib.h>
#include <spdlog/spdlog.h>

#include <charconv>

#include "common/host_port.h"
#include "coordinator/metrics/metrics.h"

namespace ingest {

Result<std::unique_ptr<MetricsServer>> MetricsServer::Start(const std::string& listen,
                                                            const CoordinatorMetrics& metrics) {
  auto [host, port_text] = SplitHostPort(listen);
  int port = -1;
  if (!host.empty() && !port_text.empty()) {
    const char* last = port_text.data() + port_text.size();
    auto [end, ec] = std::from_chars(port_text.data(), last, port);
    if (ec != std::errc() || end != last || port > 65535) port = -1;
  }
  if (port < 0) return InvalidArgument("metrics.listen '" + listen + "': expected host:port");
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);

  std::unique_ptr<MetricsServer> server(new MetricsServer());
  server->server_ = std::make_unique<httplib::Server>();
  server->server_->Get("/metrics", [&metrics](const httplib::Request&, httplib::Response& response) {
    response.set_content(metrics.Text(), "text/plain; version=0.0.4; charset=utf-8");
  });
  int bound = port;
  if (port == 0) {
    bound = server->server_->bind_to_any_port(host);
  } else if (!server->server_->bind_to_port(host, port)) {
    bound = -1;
  }
  if (bound <= 0)
    return Unavailable("metrics.listen '" + listen + "': cannot listen there (in use, or not this host's)");
  server->address_ = (host.find(':') != std::string::npos ? "[" + host + "]" : host) + ":" + std::to_string(bound);
  httplib::Server* raw = server->server_.get();
  server->thread_ = std::thread([raw] { raw->listen_after_bind(); });
  spdlog::info("metrics: listening on {} (GET /metrics)", server->address_);
  return server;
}

Result<std::unique_ptr<MetricsServer>> MetricsServer::StartIfListening(const MetricsConfig& config,
                                                                       const CoordinatorMetrics& metrics) {
  if (config.listen.empty()) return std::unique_ptr<MetricsServer>();
  return Start(config.listen, metrics);
}

void MetricsServer::Stop() {
  if (server_) server_->stop();
  if (thread_.joinable()) thread_.join();
}

MetricsServer::~MetricsServer() { Stop(); }

}  // namespace ingest
