#pragma once

#include <memory>
#include <string>

#include "common/config.h"
#include "common/status.h"

namespace ingest {

class CoordinatorMetrics;
class HttpEndpoint;

// The coordinator's HTTP endpoint: GET /metrics answers CoordinatorMetrics::Text() in
// the Prometheus text format. Runs its own threads (an HttpEndpoint's);
// Stop() (or the destructor) ends them.
class MetricsServer {
 public:
  // Listens on `listen` ("host:port", port 0 picks a free one) and logs
  // "metrics: listening on host:port". InvalidArgument for a malformed
  // address, Unavailable when it cannot be bound. `metrics` must outlive
  // the server.
  static Result<std::unique_ptr<MetricsServer>> Start(const std::string& listen, const CoordinatorMetrics& metrics);
  // Start(config.listen), or null when metrics.listen is not set.
  static Result<std::unique_ptr<MetricsServer>> StartIfListening(const MetricsConfig& config,
                                                                 const CoordinatorMetrics& metrics);
  ~MetricsServer();
  MetricsServer(const MetricsServer&) = delete;
  MetricsServer& operator=(const MetricsServer&) = delete;

  // "host:port" as bound.
  const std::string& address() const;
  void Stop();

 private:
  MetricsServer() = default;

  std::unique_ptr<HttpEndpoint> endpoint_;
};

}  // namespace ingest
