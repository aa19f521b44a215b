// ingestctl: the admin client of an ingestfleet coordinator (SPEC §6, §12).

#include <CLI/CLI.hpp>
#include <iostream>

#include "common/command_line.h"
#include "ctl/client.h"
#include "ctl/commands.h"

namespace {

using namespace ingest::ctl;

// The run flags of `ingest-coordinator run` that `run` and `plan` take.
void AddRunFlags(CLI::App* command, admin::RunFlags* flags, std::vector<std::string>* sources) {
  command->add_option_function<std::string>(
      "--passes", [flags](const std::string& v) { flags->set_passes(v); }, "run only these passes, e.g. A,C");
  command->add_option_function<std::string>(
      "--resume-from", [flags](const std::string& v) { flags->set_resume_from(v); },
      "rerun this pass and every later one of the newest job");
  command->add_flag_function(
      "--full-refresh", [flags](int64_t) { flags->set_full_refresh(true); }, "read and recompute everything");
  command->add_flag_function(
      "--baseline", [flags](int64_t) { flags->set_baseline(true); }, "the first run: everything is new");
  command->add_flag_function(
      "--resume", [flags](int64_t) { flags->set_resume(true); }, "continue the newest job (or --job-dir)");
  command->add_option_function<std::string>(
      "--job-dir", [flags](const std::string& v) { flags->set_job_dir(v); }, "job directory to create or continue");
  command->add_option("--source", *sources, "only this source (repeatable)");
}

int Main(int argc, char** argv) {
  CLI::App app{"ingestctl: the admin client of an ingestfleet coordinator"};
  auto examples = ingest::UseExamples(app,
                                      "  ingestctl --server 127.0.0.1:50051 --token-file admin-token run --follow\n"
                                      "  ingestctl runs --state failed\n"
                                      "  ingestctl cancel run_20261122_020000_41");
  app.require_subcommand(1);
  app.footer(
      "Exit codes: 0 ok (with --wait/--follow the run's own code), 2 usage, 4 another run holds the lock,\n"
      "69 server unreachable or deadline exceeded, 77 unauthenticated or permission denied, 130 interrupted.");
  ClientOptions client;
  bool json = false;
  double timeout_s = 10;
  app.add_option("--server", client.server, "admin API address HOST:PORT")
      ->envname("INGESTFLEET_SERVER")
      ->capture_default_str();
  app.add_option("--token-file", client.token_file, "file holding the bearer token")->envname("INGESTFLEET_TOKEN_FILE");
  app.add_option("--tls-ca", client.tls_ca, "CA certificate to verify the server with (turns TLS on)");
  app.add_option("--tls-cert", client.tls_cert, "client certificate, for mutual TLS");
  app.add_option("--tls-key", client.tls_key, "client key, for mutual TLS");
  app.add_option("--timeout", timeout_s, "deadline of every call, seconds")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  app.add_flag("--json", json, "one JSON document on stdout (streams: one per line)");

  admin::RunFlags run_flags;
  std::vector<std::string> run_sources;
  TriggerFlags trigger;
  CLI::App* run = app.add_subcommand("run", "start a run of the env now (needs `ingest-coordinator serve`)");
  AddRunFlags(run, &run_flags, &run_sources);
  run->add_option("--request-id", trigger.request_id, "idempotency key: a retry with it returns the same run");
  run->add_flag("--wait", trigger.wait, "wait until the run ends; exit with its code");
  run->add_flag("--follow", trigger.follow, "like --wait, drawing each pass's progress on stderr");
  examples->SetExamples(run, "  ingestctl run --full-refresh --follow");

  admin::RunFlags plan_flags;
  std::vector<std::string> plan_sources;
  CLI::App* plan = app.add_subcommand("plan", "what a run would do (a dry run): changes per source, tasks per pass");
  AddRunFlags(plan, &plan_flags, &plan_sources);
  examples->SetExamples(plan, "  ingestctl plan --source rules");

  std::string run_id;
  CLI::App* status = app.add_subcommand("status", "one run: state, passes, summary, report");
  status->add_option("run_id", run_id, "run id")->required();
  examples->SetExamples(status, "  ingestctl status run_20261122_020000_41");

  std::string state;
  std::string page_token;
  int limit = 20;
  bool all = false;
  CLI::App* runs = app.add_subcommand("runs", "the env's runs, newest first");
  runs->add_option("--state", state, "only queued, running, completed, partial, failed or cancelled runs");
  runs->add_option("--limit", limit, "runs per page")->capture_default_str()->check(CLI::Range(1, 1000));
  runs->add_option("--page-token", page_token, "the page after the one that printed this token");
  runs->add_flag("--all", all, "every page");
  examples->SetExamples(runs, "  ingestctl runs --state failed --limit 5");

  CLI::App* watch = app.add_subcommand("watch", "follow a run to its end; exits with the run's code");
  watch->add_option("run_id", run_id, "run id")->required();
  examples->SetExamples(watch, "  ingestctl watch run_20261122_020000_41");

  int tail = 0;
  CLI::App* logs = app.add_subcommand("logs", "the lines a run wrote to its job's run.ndjson");
  logs->add_option("run_id", run_id, "run id")->required();
  logs->add_option("--tail", tail, "only the last N lines");
  examples->SetExamples(logs, "  ingestctl logs run_20261122_020000_41 --tail 50");

  CLI::App* workers = app.add_subcommand("workers", "the workers connected to the coordinator");
  examples->SetExamples(workers, "  ingestctl workers --json");

  std::string reason;
  bool cancel_wait = false;
  CLI::App* cancel = app.add_subcommand("cancel", "stop a running run; it can be resumed");
  cancel->add_option("run_id", run_id, "run id")->required();
  cancel->add_option("--reason", reason, "recorded with the run and in its notification");
  cancel->add_flag("--wait", cancel_wait, "wait until it has stopped");
  examples->SetExamples(cancel, "  ingestctl cancel run_20261122_020000_41 --reason 'wrong corpus'");

  std::string resume_request;
  bool resume_wait = false;
  bool resume_follow = false;
  CLI::App* resume = app.add_subcommand("resume", "continue the job of an ended run that did not complete");
  resume->add_option("run_id", run_id, "run id")->required();
  resume->add_option("--request-id", resume_request, "idempotency key");
  resume->add_flag("--wait", resume_wait, "wait until the new run ends; exit with its code");
  resume->add_flag("--follow", resume_follow, "like --wait, with progress");
  examples->SetExamples(resume, "  ingestctl resume run_20261122_020000_41 --follow");

  CLI::App* report = app.add_subcommand("report", "the consolidated failure report (RUN-*.md) of a run");
  report->add_option("run_id", run_id, "run id")->required();
  examples->SetExamples(report, "  ingestctl report run_20261122_020000_41 > report.md");

  CLI::App* health = app.add_subcommand("health", "the coordinator's gRPC health (exit 0 when SERVING)");
  examples->SetExamples(health, "  ingestctl --server coordinator:50051 health");

  if (std::optional<int> done = ingest::ParseCommandLine(app, "ingestctl", argc, argv, kUsage)) return *done;
  client.timeout = std::chrono::milliseconds(static_cast<int64_t>(timeout_s * 1000));
  ingest::Result<std::unique_ptr<AdminClient>> connected = AdminClient::Connect(client);
  if (!connected.ok()) {
    std::cerr << "ingestctl: " << connected.status().message() << "\n";
    return kUsage;
  }
  AdminClient& c = **connected;
  for (const std::string& s : run_sources) run_flags.add_sources(s);
  for (const std::string& s : plan_sources) plan_flags.add_sources(s);
  trigger.flags = run_flags;
  if (*run) return Trigger(c, json, trigger);
  if (*plan) return Plan(c, json, plan_flags);
  if (*status) return Status(c, json, run_id);
  if (*runs) return Runs(c, json, state, limit, page_token, all);
  if (*watch) return Watch(c, json, run_id);
  if (*logs) return Logs(c, json, run_id, tail);
  if (*workers) return Workers(c, json);
  if (*cancel) return Cancel(c, json, run_id, reason, cancel_wait);
  if (*resume) return Resume(c, json, run_id, resume_request, resume_wait, resume_follow);
  if (*report) return Report(c, json, run_id);
  return Health(c, json);
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return Main(argc, argv);
  } catch (const std::exception& e) {
    std::cerr << "ingestctl: unexpected error: " << e.what() << "\n";
    return kFailed;
  }
}
