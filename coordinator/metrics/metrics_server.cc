#include "coordinator/metrics/metrics_server.h"

#include <httplib.h>
#include <spdlog/spdlog.h>

#include "coordinator/http/http_endpoint.h"
#include "coordinator/metrics/metrics.h"

namespace ingest {

Result<std::unique_ptr<MetricsServer>> MetricsServer::Start(const std::string& listen,
                                                            const CoordinatorMetrics& metrics) {
  auto routes = std::make_unique<httplib::Server>();
  routes->Get("/metrics", [&metrics](const httplib::Request&, httplib::Response& response) {
    response.set_content(metrics.Text(), "text/plain; version=0.0.4; charset=utf-8");
  });
  std::unique_ptr<MetricsServer> server(new MetricsServer());
  INGEST_ASSIGN_OR_RETURN(server->endpoint_, HttpEndpoint::Start(std::move(routes), listen, "metrics.listen"));
  spdlog::info("metrics: listening on {} (GET /metrics)", server->address());
  return server;
}

Result<std::unique_ptr<MetricsServer>> MetricsServer::StartIfListening(const MetricsConfig& config,
                                                                       const CoordinatorMetrics& metrics) {
  if (config.listen.empty()) return std::unique_ptr<MetricsServer>();
  return Start(config.listen, metrics);
}

const std::string& MetricsServer::address() const { return endpoint_->address(); }

void MetricsServer::Stop() {
  if (endpoint_) endpoint_->Stop();
}

MetricsServer::~MetricsServer() = default;

}  // namespace ingest
