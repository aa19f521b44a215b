#pragma once

#include <atomic>

#include "coordinator/admin/auth.h"
#include "coordinator/admin/run_registry.h"
#include "proto/admin.grpc.pb.h"

namespace ingest {

// The Admin service (proto/admin.proto) over a RunRegistry: checks each
// call's token, asks the registry, answers in gRPC's codes. Called on gRPC's
// threads; thread-safe.
class AdminService final : public admin::Admin::Service {
 public:
  // `registry` and `auth` must outlive the service.
  AdminService(RunRegistry& registry, const TokenAuth& auth) : registry_(registry), auth_(auth) {}

  // Ends every WatchRun stream at its next turn (the server is stopping).
  void Stop() { stopping_ = true; }

  grpc::Status TriggerRun(grpc::ServerContext* context, const admin::TriggerRunRequest* request,
                          admin::TriggerRunResponse* response) override;
  grpc::Status GetRun(grpc::ServerContext* context, const admin::GetRunRequest* request, admin::Run* response) override;
  grpc::Status ListRuns(grpc::ServerContext* context, const admin::ListRunsRequest* request,
                        admin::ListRunsResponse* response) override;
  grpc::Status WatchRun(grpc::ServerContext* context, const admin::WatchRunRequest* request,
                        grpc::ServerWriter<admin::RunEvent>* writer) override;
  grpc::Status CancelRun(grpc::ServerContext* context, const admin::CancelRunRequest* request,
                         admin::Run* response) override;
  grpc::Status ResumeRun(grpc::ServerContext* context, const admin::ResumeRunRequest* request,
                         admin::Run* response) override;
  grpc::Status ListWorkers(grpc::ServerContext* context, const admin::ListWorkersRequest* request,
                           admin::ListWorkersResponse* response) override;
  grpc::Status GetReport(grpc::ServerContext* context, const admin::GetReportRequest* request,
                         admin::Report* response) override;
  grpc::Status GetRunLog(grpc::ServerContext* context, const admin::GetRunLogRequest* request,
                         admin::GetRunLogResponse* response) override;

 private:
  Status Authorize(const grpc::ServerContext& context, Access access) const;
  // Follows a run of another process through the state store until it ends.
  grpc::Status WatchStored(grpc::ServerContext* context, const RunId& run_id,
                           grpc::ServerWriter<admin::RunEvent>* writer);

  RunRegistry& registry_;
  const TokenAuth& auth_;
  std::atomic<bool> stopping_{false};
};

// The name of the trailing metadata that tells a refusal caused by the env's
// run lock from other FAILED_PRECONDITIONs, and its value.
inline constexpr char kReasonMetadata[] = "ingestfleet-reason";
inline constexpr char kReasonRunLocked[] = "RUN_LOCKED";

}  // namespace ingest
