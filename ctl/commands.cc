#include "ctl/commands.h"

#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <iostream>
#include <thread>

#include "common/proto_json.h"
#include "common/signals.h"
#include "ctl/render.h"

namespace ingest::ctl {
namespace {

// A terminal that takes escape codes: bars are redrawn in place there.
bool LiveTerminal() {
  const char* term = std::getenv("TERM");
  return ::isatty(STDERR_FILENO) == 1 && std::getenv("NO_COLOR") == nullptr &&
         (term == nullptr || std::string(term) != "dumb");
}

admin::RunState ParseState(const std::string& word) {
  std::string name = "RUN_STATE_";
  for (char c : word) name += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  admin::RunState state = admin::RUN_STATE_UNSPECIFIED;
  admin::RunState_Parse(name, &state);
  return state;
}

// What a started run's follow-up is: its id, then wait, follow or return.
int AfterStart(AdminClient& client, bool json, const admin::Run& run, bool wait, bool follow) {
  if (json && !wait && !follow) {
    std::cout << ToJson(run) << "\n";
    return kOk;
  }
  if (!wait && !follow) {
    if (!json)
      std::cerr << "run " << run.run_id() << " " << StateWord(run.state()) << "; follow it with: ingestctl watch "
                << run.run_id() << "\n";
    std::cout << run.run_id() << "\n";
    return kOk;
  }
  return Watch(client, json, run.run_id(), follow);
}

}  // namespace

int Trigger(AdminClient& client, bool json, const TriggerFlags& trigger) {
  admin::TriggerRunRequest request;
  *request.mutable_flags() = trigger.flags;
  request.set_request_id(trigger.request_id);
  admin::TriggerRunResponse response;
  auto context = client.Context();
  grpc::Status status = client.admin().TriggerRun(context.get(), request, &response);
  if (!status.ok()) return ctl::Report("run", status, *context);
  return AfterStart(client, json, response.run(), trigger.wait, trigger.follow);
}

int Plan(AdminClient& client, bool json, const admin::RunFlags& flags) {
  admin::TriggerRunRequest request;
  *request.mutable_flags() = flags;
  request.mutable_flags()->set_dry_run(true);
  admin::TriggerRunResponse response;
  auto context = client.Context();
  grpc::Status status = client.admin().TriggerRun(context.get(), request, &response);
  if (!status.ok()) return ctl::Report("plan", status, *context);
  if (json) {
    std::cout << ToJson(response.plan()) << "\n";
  } else {
    PrintPlan(response.plan(), std::cout);
  }
  return kOk;
}

int Status(AdminClient& client, bool json, const std::string& run_id) {
  admin::GetRunRequest request;
  request.set_run_id(run_id);
  admin::Run run;
  auto context = client.Context();
  grpc::Status status = client.admin().GetRun(context.get(), request, &run);
  if (!status.ok()) return ctl::Report("status " + run_id, status, *context);
  if (json) {
    std::cout << ToJson(run) << "\n";
  } else {
    PrintRun(run, std::cout);
  }
  return kOk;
}

int Runs(AdminClient& client, bool json, const std::string& state, int limit, const std::string& page_token, bool all) {
  admin::ListRunsRequest request;
  request.set_page_size(limit);
  request.set_page_token(page_token);
  if (!state.empty()) {
    request.set_state(ParseState(state));
    if (request.state() == admin::RUN_STATE_UNSPECIFIED) {
      std::cerr << "ingestctl: --state " << state << ": not queued, running, completed, partial, failed or cancelled\n";
      return kUsage;
    }
  }
  admin::ListRunsResponse listed;
  do {
    admin::ListRunsResponse page;
    auto context = client.Context();
    grpc::Status status = client.admin().ListRuns(context.get(), request, &page);
    if (!status.ok()) return ctl::Report("runs", status, *context);
    for (admin::Run& run : *page.mutable_runs()) *listed.add_runs() = std::move(run);
    listed.set_next_page_token(page.next_page_token());
    request.set_page_token(page.next_page_token());
  } while (all && !request.page_token().empty());
  if (json) {
    std::cout << ToJson(listed) << "\n";
  } else {
    PrintRuns(listed, std::cout);
  }
  return kOk;
}

int Watch(AdminClient& client, bool json, const std::string& run_id, bool progress) {
  auto context = client.Context(false);
  // SIGINT while following ends the stream, not the run: exit 130.
  CatchStopSignals();
  std::atomic<bool> finished{false};
  std::thread interrupter([&] {
    while (!finished) {
      if (CaughtStopSignal() != 0) {
        context->TryCancel();
        return;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  });
  admin::WatchRunRequest request;
  request.set_run_id(run_id);
  std::unique_ptr<grpc::ClientReader<admin::RunEvent>> reader = client.admin().WatchRun(context.get(), request);
  ProgressView view(std::cerr, LiveTerminal());
  admin::RunEvent event;
  std::optional<admin::Run> ended;
  while (reader->Read(&event)) {
    if (json) {
      std::cout << ToJson(event) << "\n" << std::flush;
    } else if (progress) {
      view.Handle(event);
    }
    if (event.has_run_ended()) ended = event.run_ended();
    if (event.has_snapshot() && event.snapshot().exit_code() >= 0) ended = event.snapshot();
  }
  grpc::Status status = reader->Finish();
  finished = true;
  interrupter.join();
  if (CaughtStopSignal() != 0) {
    std::cerr << "ingestctl: interrupted; the run goes on (cancel it with: ingestctl cancel " << run_id << ")\n";
    return kInterrupted;
  }
  if (ended) {
    if (!json && !progress) std::cerr << "run " << run_id << " " << StateWord(ended->state()) << "\n";
    if (!json && ended->has_summary()) std::cout << ToJson(ended->summary()) << "\n";
    return ended->exit_code();
  }
  if (!status.ok()) return ctl::Report("watch " + run_id, status, *context);
  std::cerr << "ingestctl: watch " << run_id << ": the stream ended before the run did\n";
  return kFailed;
}

int Logs(AdminClient& client, bool json, const std::string& run_id, int tail) {
  admin::GetRunLogRequest request;
  request.set_run_id(run_id);
  request.set_max_lines(tail);
  admin::GetRunLogResponse response;
  auto context = client.Context();
  grpc::Status status = client.admin().GetRunLog(context.get(), request, &response);
  if (!status.ok()) return ctl::Report("logs " + run_id, status, *context);
  for (const std::string& line : response.lines()) std::cout << (json ? line : LogLineText(line)) << "\n";
  return kOk;
}

int Workers(AdminClient& client, bool json) {
  admin::ListWorkersResponse response;
  auto context = client.Context();
  grpc::Status status = client.admin().ListWorkers(context.get(), admin::ListWorkersRequest(), &response);
  if (!status.ok()) return ctl::Report("workers", status, *context);
  if (json) {
    std::cout << ToJson(response) << "\n";
  } else {
    PrintWorkers(response, std::cout);
  }
  return kOk;
}

int Cancel(AdminClient& client, bool json, const std::string& run_id, const std::string& reason, bool wait) {
  admin::CancelRunRequest request;
  request.set_run_id(run_id);
  request.set_reason(reason);
  admin::Run run;
  auto context = client.Context();
  grpc::Status status = client.admin().CancelRun(context.get(), request, &run);
  if (!status.ok()) return ctl::Report("cancel " + run_id, status, *context);
  if (wait) return Watch(client, json, run_id, false);
  if (json) {
    std::cout << ToJson(run) << "\n";
  } else {
    std::cout << "run " << run_id << ": cancel requested; running tasks get run.cancel_grace_s to finish\n";
  }
  return kOk;
}

int Resume(AdminClient& client, bool json, const std::string& run_id, const std::string& request_id, bool wait,
           bool follow) {
  admin::ResumeRunRequest request;
  request.set_run_id(run_id);
  request.set_request_id(request_id);
  admin::Run run;
  auto context = client.Context();
  grpc::Status status = client.admin().ResumeRun(context.get(), request, &run);
  if (!status.ok()) return ctl::Report("resume " + run_id, status, *context);
  return AfterStart(client, json, run, wait, follow);
}

int Report(AdminClient& client, bool json, const std::string& run_id) {
  admin::GetReportRequest request;
  request.set_run_id(run_id);
  admin::Report report;
  auto context = client.Context();
  grpc::Status status = client.admin().GetReport(context.get(), request, &report);
  if (!status.ok()) return ctl::Report("report " + run_id, status, *context);
  std::cout << (json ? ToJson(report) + "\n" : report.markdown());
  return kOk;
}

int Health(AdminClient& client, bool json) {
  grpc::health::v1::HealthCheckResponse response;
  auto context = client.Context();
  grpc::Status status = client.health().Check(context.get(), grpc::health::v1::HealthCheckRequest(), &response);
  if (!status.ok()) return ctl::Report("health", status, *context);
  if (json) {
    std::cout << ToJson(response) << "\n";
  } else {
    std::cout << grpc::health::v1::HealthCheckResponse::ServingStatus_Name(response.status()) << "\n";
  }
  return response.status() == grpc::health::v1::HealthCheckResponse::SERVING ? kOk : kFailed;
}

}  // namespace ingest::ctl
