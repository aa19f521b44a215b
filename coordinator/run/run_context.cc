#include "coordinator/run/run_context.h"

#include <unistd.h>

#include "common/manifest.h"
#include "coordinator/metrics/metrics.h"

namespace ingest {
namespace {

Config WithEnv(Config config, const std::string& env) {
  if (!env.empty()) config.env = env;
  return config;
}

}  // namespace

RunContext::RunContext(RunOptions options_in, Config config_in, std::shared_ptr<RunControl> control_in,
                       FleetView* fleet_view_in, CoordinatorMetrics* metrics_in)
    : options(std::move(options_in)),
      config(WithEnv(std::move(config_in), options.env)),
      run_id(options.run_id.empty() ? MakeRunId(std::chrono::system_clock::now(), ::getpid()) : RunId{options.run_id}),
      started(std::chrono::system_clock::now()),
      started_steady(std::chrono::steady_clock::now()),
      control(std::move(control_in)),
      fleet_view(fleet_view_in),
      metrics(metrics_in) {}

Status RunContext::SaveManifest() {
  return ingest::SaveManifest(job_dir / kManifestFileName, manifest).WithContext("manifest");
}

void RunContext::CountTasks(const PassMetrics& metrics) {
  tasks.set_total(tasks.total() + metrics.tasks_total());
  tasks.set_reused(tasks.reused() + metrics.tasks_reused());
  tasks.set_executed(tasks.executed() + metrics.tasks_executed());
  tasks.set_retried(tasks.retried() + metrics.tasks_retried());
  tasks.set_requeued(tasks.requeued() + metrics.tasks_requeued());
}

void RunContext::PassEnded(Pass pass, const PassRecord& record, const std::string& error) {
  control->PassEnded(pass, record, error);
  if (metrics != nullptr) metrics->PassEnded(pass, record);
}

void RunContext::RunEnded(const RunSummary& summary, const std::string& report_path, int exit_code) {
  if (metrics != nullptr) {
    if (notifier) {
      for (const std::string& channel : notifier->delivered()) metrics->NotificationSent(channel, true);
      for (const std::string& channel : notifier->undelivered()) metrics->NotificationSent(channel, false);
    }
    metrics->RunEnded(summary, std::chrono::system_clock::now());
  }
  control->Ended(summary, report_path, exit_code);
}

double SecondsSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace ingest
