#pragma once

#include <grpcpp/grpcpp.h>

#include <chrono>
#include <memory>
#include <string>

#include "common/status.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "proto/admin.grpc.pb.h"

namespace ingest::ctl {

namespace admin = ::ingestfleet::admin::v1;

// Exit codes of ingestctl (SPEC §6); with --wait or --follow a command
// exits with the run's own code instead of kOk.
inline constexpr int kOk = 0;
inline constexpr int kFailed = 1;         // the call failed otherwise (not found, not now)
inline constexpr int kUsage = 2;          // bad flags, or the server said the request is wrong
inline constexpr int kLocked = 4;         // another run of the env holds the lock
inline constexpr int kUnavailable = 69;   // server unreachable or deadline exceeded
inline constexpr int kDenied = 77;        // unauthenticated or permission denied
inline constexpr int kInterrupted = 130;  // SIGINT while waiting

// Where the coordinator's admin API is and how to reach it.
struct ClientOptions {
  std::string server = "127.0.0.1:50051";  // --server, INGESTFLEET_SERVER
  std::string token_file;                  // --token-file, INGESTFLEET_TOKEN_FILE
  std::string tls_ca;                      // --tls-ca: verify the server with this CA (TLS on)
  std::string tls_cert;                    // --tls-cert / --tls-key: client certificate (mutual TLS)
  std::string tls_key;
  std::chrono::milliseconds timeout{10000};  // --timeout: deadline of every unary call
};

// A connection to the admin API: the channel, the bearer token, and a
// deadline on every unary call. Not thread-safe; one per process.
class AdminClient {
 public:
  // Reads the token and TLS files; errors name the file.
  static Result<std::unique_ptr<AdminClient>> Connect(const ClientOptions& options);

  // A context with the token and, for unary calls, the deadline; a stream
  // has none (it lasts as long as the run), but its first answer must come
  // within the timeout.
  std::unique_ptr<grpc::ClientContext> Context(bool unary = true) const;
  admin::Admin::Stub& admin() { return *admin_; }
  grpc::health::v1::Health::Stub& health() { return *health_; }
  const ClientOptions& options() const { return options_; }
  // Waits up to the timeout for the channel to connect; false when it
  // does not (the server is down or unreachable).
  bool WaitConnected();

 private:
  ClientOptions options_;
  std::string token_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<admin::Admin::Stub> admin_;
  std::unique_ptr<grpc::health::v1::Health::Stub> health_;
};

// The exit code for a failed call, after printing what the server said on
// stderr (`what` names the call).
int Report(const std::string& what, const grpc::Status& status, const grpc::ClientContext& context);

}  // namespace ingest::ctl
