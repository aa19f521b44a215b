#include "coordinator/admin/admin_service.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <thread>

#include "coordinator/admin/grpc_status.h"
#include "coordinator/run/dry_run.h"
#include "coordinator/run/job_setup.h"
#include "coordinator/run/run_context.h"
#include "coordinator/run/run_engine.h"
#include "coordinator/run/run_view.h"

namespace ingest {
namespace {

constexpr auto kWatchTurn = std::chrono::milliseconds(250);
constexpr auto kStoredWatchPoll = std::chrono::seconds(1);

admin::RunEvent Event(const admin::Run& run, bool ended) {
  admin::RunEvent event;
  *event.mutable_time() = TimestampOf(std::chrono::system_clock::now());
  *(ended ? event.mutable_run_ended() : event.mutable_snapshot()) = run;
  return event;
}

bool Ended(admin::RunState state) {
  return state != admin::RUN_STATE_QUEUED && state != admin::RUN_STATE_RUNNING && state != admin::RUN_STATE_UNSPECIFIED;
}

}  // namespace

Status AdminService::Authorize(const grpc::ServerContext& context, Access access) const {
  const auto& metadata = context.client_metadata();
  auto it = metadata.find("authorization");
  const std::string_view header = it == metadata.end() ? "" : std::string_view(it->second.data(), it->second.size());
  return auth_.Check(header, access);
}

grpc::Status AdminService::TriggerRun(grpc::ServerContext* context, const admin::TriggerRunRequest* request,
                                      admin::TriggerRunResponse* response) {
  if (Status allowed = Authorize(*context, Access::kOperate); !allowed.ok()) return ToGrpcStatus(allowed);
  RunOptions options = OptionsOf(request->flags(), registry_.config().file.string());
  options.request_id = request->request_id();
  // Bad flags are the request's fault, told now rather than by a run that
  // fails at once.
  RunContext ctx(options, registry_.config(), NewRunControl(options, registry_.config().env, RunId{"check"}, false),
                 nullptr);
  if (Status passes = JobSetup(ctx).ResolvePasses(); !passes.ok()) return ToGrpcStatus(passes);
  for (const std::string& source : options.sources) {
    const auto& sources = registry_.config().sources;
    if (std::none_of(sources.begin(), sources.end(), [&source](const SourceConfig& s) { return s.name == source; })) {
      return ToGrpcStatus(InvalidArgument("flags.sources: '" + source + "' is not a source of the config"));
    }
  }
  if (options.dry_run) {
    // A plan reads the store and the sources, never writes: no lock.
    Result<admin::Plan> plan = PlanRun(ctx);
    if (!plan.ok()) return ToGrpcStatus(plan.status());
    *response->mutable_plan() = std::move(*plan);
    return grpc::Status::OK;
  }
  bool locked = false;
  Result<admin::Run> run = registry_.Enqueue(std::move(options), &locked);
  if (locked) context->AddTrailingMetadata(kReasonMetadata, kReasonRunLocked);
  if (!run.ok()) return ToGrpcStatus(run.status());
  *response->mutable_run() = std::move(*run);
  return grpc::Status::OK;
}

grpc::Status AdminService::GetRun(grpc::ServerContext* context, const admin::GetRunRequest* request,
                                  admin::Run* response) {
  if (Status allowed = Authorize(*context, Access::kRead); !allowed.ok()) return ToGrpcStatus(allowed);
  Result<admin::Run> run = registry_.Get(RunId{request->run_id()});
  if (!run.ok()) return ToGrpcStatus(run.status());
  *response = std::move(*run);
  return grpc::Status::OK;
}

grpc::Status AdminService::ListRuns(grpc::ServerContext* context, const admin::ListRunsRequest* request,
                                    admin::ListRunsResponse* response) {
  if (Status allowed = Authorize(*context, Access::kRead); !allowed.ok()) return ToGrpcStatus(allowed);
  Result<admin::ListRunsResponse> runs = registry_.List(*request);
  if (!runs.ok()) return ToGrpcStatus(runs.status());
  *response = std::move(*runs);
  return grpc::Status::OK;
}

grpc::Status AdminService::WatchRun(grpc::ServerContext* context, const admin::WatchRunRequest* request,
                                    grpc::ServerWriter<admin::RunEvent>* writer) {
  if (Status allowed = Authorize(*context, Access::kRead); !allowed.ok()) return ToGrpcStatus(allowed);
  const RunId run_id{request->run_id()};
  if (run_id.empty()) return ToGrpcStatus(InvalidArgument("run_id is empty"));
  std::shared_ptr<RunControl> control = registry_.Live(run_id);
  if (!control) return WatchStored(context, run_id, writer);
  RunControl::Watch watch = control->StartWatch();
  if (!writer->Write(Event(watch.snapshot, false))) return grpc::Status::OK;
  if (watch.snapshot.exit_code() >= 0) return grpc::Status::OK;  // ended: its final snapshot
  while (!context->IsCancelled() && !stopping_) {
    for (const admin::RunEvent& event : control->Next(&watch.cursor, kWatchTurn)) {
      // A watcher that went away costs the run nothing: its stream just ends.
      if (!writer->Write(event)) return grpc::Status::OK;
      if (event.has_run_ended()) return grpc::Status::OK;
    }
  }
  return context->IsCancelled() ? grpc::Status::CANCELLED
                                : grpc::Status(grpc::StatusCode::UNAVAILABLE, "the coordinator is stopping");
}

grpc::Status AdminService::WatchStored(grpc::ServerContext* context, const RunId& run_id,
                                       grpc::ServerWriter<admin::RunEvent>* writer) {
  Result<admin::Run> run = registry_.Get(run_id);
  if (!run.ok()) return ToGrpcStatus(run.status());
  if (!writer->Write(Event(*run, false)) || Ended(run->state())) return grpc::Status::OK;
  while (!context->IsCancelled() && !stopping_) {
    std::this_thread::sleep_for(kStoredWatchPoll);
    run = registry_.Get(run_id);
    if (!run.ok()) return ToGrpcStatus(run.status());
    if (Ended(run->state())) {
      writer->Write(Event(*run, true));
      return grpc::Status::OK;
    }
  }
  return grpc::Status::CANCELLED;
}

grpc::Status AdminService::CancelRun(grpc::ServerContext* context, const admin::CancelRunRequest* request,
                                     admin::Run* response) {
  if (Status allowed = Authorize(*context, Access::kOperate); !allowed.ok()) return ToGrpcStatus(allowed);
  Result<admin::Run> run = registry_.Cancel(RunId{request->run_id()}, request->reason());
  if (!run.ok()) return ToGrpcStatus(run.status());
  *response = std::move(*run);
  return grpc::Status::OK;
}

grpc::Status AdminService::ResumeRun(grpc::ServerContext* context, const admin::ResumeRunRequest* request,
                                     admin::Run* response) {
  if (Status allowed = Authorize(*context, Access::kOperate); !allowed.ok()) return ToGrpcStatus(allowed);
  bool locked = false;
  Result<admin::Run> run = registry_.Resume(RunId{request->run_id()}, request->request_id(), &locked);
  if (locked) context->AddTrailingMetadata(kReasonMetadata, kReasonRunLocked);
  if (!run.ok()) return ToGrpcStatus(run.status());
  *response = std::move(*run);
  return grpc::Status::OK;
}

grpc::Status AdminService::ListWorkers(grpc::ServerContext* context, const admin::ListWorkersRequest*,
                                       admin::ListWorkersResponse* response) {
  if (Status allowed = Authorize(*context, Access::kRead); !allowed.ok()) return ToGrpcStatus(allowed);
  *response = registry_.Workers();
  return grpc::Status::OK;
}

grpc::Status AdminService::GetReport(grpc::ServerContext* context, const admin::GetReportRequest* request,
                                     admin::Report* response) {
  if (Status allowed = Authorize(*context, Access::kRead); !allowed.ok()) return ToGrpcStatus(allowed);
  Result<admin::Report> report = registry_.Report(RunId{request->run_id()});
  if (!report.ok()) return ToGrpcStatus(report.status());
  *response = std::move(*report);
  return grpc::Status::OK;
}

grpc::Status AdminService::GetRunLog(grpc::ServerContext* context, const admin::GetRunLogRequest* request,
                                     admin::GetRunLogResponse* response) {
  if (Status allowed = Authorize(*context, Access::kRead); !allowed.ok()) return ToGrpcStatus(allowed);
  Result<admin::GetRunLogResponse> log = registry_.Log(RunId{request->run_id()}, request->max_lines());
  if (!log.ok()) return ToGrpcStatus(log.status());
  *response = std::move(*log);
  return grpc::Status::OK;
}

}  // namespace ingest
