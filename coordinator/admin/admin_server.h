#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "common/config.h"
#include "common/status.h"
#include "coordinator/admin/run_registry.h"

namespace grpc {
class Server;
}  // namespace grpc

namespace ingest {

class AdminService;
class TokenAuth;

// The admin API's gRPC server (SPEC §12): the Admin service over a
// RunRegistry, grpc.health.v1.Health (SERVING while up, NOT_SERVING once
// shutdown begins) and server reflection, on admin.listen. With no token
// configured it binds loopback only, whatever the address says, and logs
// so. TLS from admin.tls (mutual with a client CA). Runs on gRPC's threads;
// Start and Shutdown from one thread.
class AdminServer {
 public:
  // `listen` is host:port (port 0 picks a free one). Errors name the key or
  // file: an unreadable token or certificate, an address in use.
  static Result<std::unique_ptr<AdminServer>> Start(const AdminConfig& config, const std::string& listen,
                                                    RunRegistry& registry);
  // Shuts down if Shutdown was not called.
  ~AdminServer();
  AdminServer(const AdminServer&) = delete;
  AdminServer& operator=(const AdminServer&) = delete;

  // host:port actually bound.
  const std::string& address() const { return address_; }

  // Health says NOT_SERVING, streams end, calls in progress get up to
  // `grace` to finish.
  void Shutdown(std::chrono::milliseconds grace = std::chrono::milliseconds(2000));

 private:
  AdminServer() = default;

  std::unique_ptr<TokenAuth> auth_;
  std::unique_ptr<AdminService> service_;
  std::unique_ptr<grpc::Server> server_;
  std::string address_;
};

}  // namespace ingest
