#pragma once

#include <memory>
#include <string>
#include <thread>

#include "common/config.h"
#include "common/status.h"

namespace httplib {
class Server;
}  // namespace httplib

namespace ingest {

class CoordinatorMetrics;

// The coordinator's HTTP endpoint: GET /metrics answers CoordinatorMetrics::Text() in
// the Prometheus text format. Runs its own threads (cpp-httplib's pool);
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
  const std::string& address() const { return address_; }
  void Stop();

 private:
  MetricsServer() = default;

  std::unique_ptr<httplib::Server> server_;
  std::thread thread_;
  std::string address_;
};

}  // namespace ingest
