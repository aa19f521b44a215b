#include "coordinator/admin/admin_server.h"

#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/grpcpp.h>
#include <grpcpp/health_check_service_interface.h>
#include <spdlog/spdlog.h>

#include <thread>

#include "common/atomic_file.h"
#include "common/host_port.h"
#include "coordinator/admin/admin_service.h"
#include "coordinator/admin/auth.h"
#include "grpc/health/v1/health.pb.h"

namespace ingest {
namespace {

// Health watchers (load balancers, kubelet) get this long to see
// NOT_SERVING before the server closes.
constexpr auto kNotServingNotice = std::chrono::milliseconds(300);
// Sync server threads: every WatchRun holds one while it streams.
constexpr int kMaxThreads = 256;

Result<std::shared_ptr<grpc::ServerCredentials>> Credentials(const AdminConfig& config) {
  if (config.tls_cert.empty()) return grpc::InsecureServerCredentials();
  grpc::SslServerCredentialsOptions options;
  INGEST_ASSIGN_OR_RETURN(std::string cert, ReadFile(config.tls_cert));
  INGEST_ASSIGN_OR_RETURN(std::string key, ReadFile(config.tls_key));
  options.pem_key_cert_pairs.push_back({std::move(key), std::move(cert)});
  if (!config.tls_client_ca.empty()) {
    INGEST_ASSIGN_OR_RETURN(options.pem_root_certs, ReadFile(config.tls_client_ca));
    options.client_certificate_request = GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY;
  }
  return grpc::SslServerCredentials(options);
}

}  // namespace

Result<std::unique_ptr<AdminServer>> AdminServer::Start(const AdminConfig& config, const std::string& listen,
                                                        RunRegistry& registry) {
  std::unique_ptr<AdminServer> server(new AdminServer());
  INGEST_ASSIGN_OR_RETURN(TokenAuth auth, TokenAuth::Load(config));
  server->auth_ = std::make_unique<TokenAuth>(std::move(auth));
  server->service_ = std::make_unique<AdminService>(registry, *server->auth_);
  auto [host, port] = SplitHostPort(listen);
  if (port.empty()) return InvalidArgument("key 'admin.listen': '" + listen + "' is not host:port");
  std::string address = listen;
  if (!server->auth_->enabled() && !IsLoopbackHost(host)) {
    spdlog::warn("admin: no admin.token_file, so the API listens on loopback only (127.0.0.1:{}), not on {}", port,
                 listen);
    address = "127.0.0.1:" + port;
    host = "127.0.0.1";
  }
  INGEST_ASSIGN_OR_RETURN(std::shared_ptr<grpc::ServerCredentials> credentials, Credentials(config));

  // Links the health service's descriptors in, so reflection can describe
  // it as well as list it.
  (void)grpc::health::v1::HealthCheckResponse::descriptor();
  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  grpc::ServerBuilder builder;
  int bound_port = 0;
  builder.AddListeningPort(address, credentials, &bound_port);
  builder.RegisterService(server->service_.get());
  grpc::ResourceQuota quota("ingestfleet-admin");
  quota.SetMaxThreads(kMaxThreads);
  builder.SetResourceQuota(quota);
  server->server_ = builder.BuildAndStart();
  if (!server->server_ || bound_port == 0) {
    return Unavailable("admin: cannot listen on " + address + " (key 'admin.listen'; is the port taken?)");
  }
  server->server_->GetHealthCheckService()->SetServingStatus(true);
  server->address_ = host + ":" + std::to_string(bound_port);
  spdlog::info("admin: listening on {} ({}, {})", server->address_,
               !server->auth_->enabled()        ? "no token"
               : config.read_token_file.empty() ? "operate token"
                                                : "operate and read tokens",
               config.tls_cert.empty()        ? "plaintext"
               : config.tls_client_ca.empty() ? "TLS"
                                              : "mutual TLS");
  return server;
}

AdminServer::~AdminServer() { Shutdown(); }

void AdminServer::Shutdown(std::chrono::milliseconds grace) {
  if (!server_) return;
  server_->GetHealthCheckService()->SetServingStatus(false);
  std::this_thread::sleep_for(kNotServingNotice);
  service_->Stop();
  server_->Shutdown(std::chrono::system_clock::now() + grace);
  server_->Wait();
  server_.reset();
  spdlog::info("admin: stopped");
}

}  // namespace ingest
