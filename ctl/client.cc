#include "ctl/client.h"

#include <iostream>

#include "common/atomic_file.h"

namespace ingest::ctl {

Result<std::unique_ptr<AdminClient>> AdminClient::Connect(const ClientOptions& options) {
  auto client = std::make_unique<AdminClient>();
  client->options_ = options;
  if (!options.token_file.empty()) {
    INGEST_ASSIGN_OR_RETURN(std::string text, ReadFile(options.token_file));
    client->token_ = text.substr(0, text.find_first_of("\r\n"));
    if (client->token_.empty()) return InvalidArgument("--token-file " + options.token_file + " holds no token");
  }
  std::shared_ptr<grpc::ChannelCredentials> credentials = grpc::InsecureChannelCredentials();
  if (!options.tls_ca.empty() || !options.tls_cert.empty()) {
    grpc::SslCredentialsOptions tls;
    if (!options.tls_ca.empty()) {
      INGEST_ASSIGN_OR_RETURN(tls.pem_root_certs, ReadFile(options.tls_ca));
    }
    if (!options.tls_cert.empty()) {
      INGEST_ASSIGN_OR_RETURN(tls.pem_cert_chain, ReadFile(options.tls_cert));
      INGEST_ASSIGN_OR_RETURN(tls.pem_private_key, ReadFile(options.tls_key));
    }
    credentials = grpc::SslCredentials(tls);
  }
  client->channel_ = grpc::CreateChannel(options.server, credentials);
  client->admin_ = admin::Admin::NewStub(client->channel_);
  client->health_ = grpc::health::v1::Health::NewStub(client->channel_);
  return client;
}

std::unique_ptr<grpc::ClientContext> AdminClient::Context(bool unary) const {
  auto context = std::make_unique<grpc::ClientContext>();
  if (!token_.empty()) context->AddMetadata("authorization", "Bearer " + token_);
  if (unary) context->set_deadline(std::chrono::system_clock::now() + options_.timeout);
  return context;
}

bool AdminClient::WaitConnected() {
  return channel_->WaitForConnected(std::chrono::system_clock::now() + options_.timeout);
}

int Report(const std::string& what, const grpc::Status& status, const grpc::ClientContext& context) {
  std::cerr << "ingestctl: " << what << ": " << status.error_message() << "\n";
  switch (status.error_code()) {
    case grpc::StatusCode::UNAVAILABLE:
    case grpc::StatusCode::DEADLINE_EXCEEDED:
      return kUnavailable;
    case grpc::StatusCode::UNAUTHENTICATED:
    case grpc::StatusCode::PERMISSION_DENIED:
      return kDenied;
    case grpc::StatusCode::INVALID_ARGUMENT:
      return kUsage;
    case grpc::StatusCode::CANCELLED:
      return kInterrupted;
    case grpc::StatusCode::FAILED_PRECONDITION: {
      const auto& trailers = context.GetServerTrailingMetadata();
      auto reason = trailers.find("ingestfleet-reason");
      if (reason != trailers.end() && std::string(reason->second.data(), reason->second.size()) == "RUN_LOCKED") {
        return kLocked;
      }
      return kFailed;
    }
    default:
      return kFailed;
  }
}

}  // namespace ingest::ctl
