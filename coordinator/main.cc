#include <CLI/CLI.hpp>
#include <iostream>

#include "common/command_line.h"
#include "common/run_log.h"
#include "coordinator/coordinator.h"
#include "coordinator/daemon/serve.h"

namespace {

int Main(int argc, char** argv) {
  CLI::App app{"ingest-coordinator: runs ingestfleet jobs over a worker fleet"};
  auto examples = ingest::UseExamples(app,
                                      "  ingest-coordinator run --config ingest.yaml --local-workers 2\n"
                                      "  ingest-coordinator serve --config ingest.yaml\n"
                                      "  ingest-coordinator check --config ingest.yaml");
  app.require_subcommand(1);
  bool verbose = false;
  app.add_flag("-v,--verbose", verbose, "debug logging (--log-level debug)");
  std::string log_level = "info";
  // Given after `run` or `serve`, as the pass-module notes ask.
  auto add_log_flags = [&log_level](CLI::App* command, std::string* log_file) {
    command->add_option("--log-level", log_level, "debug | info | warn | error (default info)")
        ->check(CLI::IsMember({"debug", "info", "warn", "error"}));
    command->add_option("--log-file", *log_file, "append the NDJSON log lines here (default: the job's run.ndjson)");
  };

  ingest::RunOptions run;
  CLI::App* run_cmd = app.add_subcommand("run", "run a job once");
  run_cmd->add_option("--config", run.config_file, "config file")->required();
  run_cmd->add_option("--env", run.env, "environment (overrides the config)");
  run_cmd->add_option("--job-dir", run.job_dir, "job directory to create or continue");
  run_cmd->add_option("--passes", run.passes, "run only these passes, e.g. A,C");
  run_cmd->add_option("--resume-from", run.resume_from, "rerun this pass and every later one");
  run_cmd->add_flag("--resume", run.resume, "continue an interrupted job from its first pass not SUCCESS");
  run_cmd->add_flag("--baseline", run.baseline, "first run: everything is new");
  run_cmd->add_flag("--full-refresh", run.full_refresh, "reprocess everything");
  CLI::Option* dry_run = run_cmd->add_flag("--dry-run", run.dry_run, "print the plan, write nothing");
  run_cmd
      ->add_flag("--json", run.json,
                 "with --dry-run: the plan as one JSON document (documents new, modified, deleted, retried, "
                 "unchanged and not due per source; tasks per pass)")
      ->needs(dry_run);
  run_cmd->add_option("--source", run.sources, "limit the run to this source (repeatable)");
  run_cmd->add_flag("--manual", run.manual, "record the run as manually triggered");
  run_cmd->add_option("--bind", run.bind, "fleet endpoint, e.g. tcp://127.0.0.1:* (overrides fleet.bind)");
  run_cmd->add_option("--admin-listen", run.admin_listen,
                      "serve the admin API for this run on HOST:PORT (overrides admin.listen; port 0: any free)");
  run_cmd->add_option("--web-listen", run.web_listen,
                      "serve the status page for this run on HOST:PORT (overrides web.listen; port 0: any free)");
  run_cmd->add_option("--local-workers", run.local_workers, "start this many worker processes")
      ->check(CLI::Range(0, 256));
  run_cmd->add_option("--local-worker-slots", run.local_worker_slots, "slots per local worker (default: cores)");
  run_cmd->add_option("--scheduled-for", run.scheduled_for,
                      "the schedule slot this run is for (RFC 3339, or a CronJob's Job name): once completed, a "
                      "slot is not run again; once failed or interrupted, it is resumed");
  add_log_flags(run_cmd, &run.log_file);

  examples->SetExamples(
      run_cmd,
      "  ingest-coordinator run --config ingest.yaml --local-workers 2\n"
      "  ingest-coordinator run --config ingest.yaml --bind tcp://0.0.0.0:5555   # workers of their own\n"
      "  ingest-coordinator run --config ingest.yaml --resume                    # the newest job\n"
      "  ingest-coordinator run --config ingest.yaml --scheduled-for 2026-12-06T02:00:00Z   # once per slot");

  std::string check_file;
  CLI::App* check_cmd = app.add_subcommand("check", "validate a config file (exit 0 or 2)");
  check_cmd->add_option("--config", check_file, "config file")->required();
  bool check_syntax_only = false;
  check_cmd->add_flag("--syntax-only", check_syntax_only,
                      "check the file alone, not the source directories it names (a config for another "
                      "machine or an image)");

  examples->SetExamples(check_cmd, "  ingest-coordinator check --config ingest.yaml");

  ingest::ServeOptions serve;
  CLI::App* serve_cmd = app.add_subcommand("serve", "daemon: the fleet broker stays up, runs start on schedule.cron");
  serve_cmd->add_option("--config", serve.config_file, "config file")->required();
  serve_cmd->add_option("--bind", serve.bind, "fleet endpoint (overrides fleet.bind)");
  serve_cmd->add_option("--admin-listen", serve.admin_listen,
                        "admin API address HOST:PORT (overrides admin.listen; port 0: any free)");
  serve_cmd->add_option("--web-listen", serve.web_listen,
                        "status page address HOST:PORT (overrides web.listen; port 0: any free)");
  serve_cmd->add_option("--local-workers", serve.local_workers, "start this many worker processes")
      ->check(CLI::Range(0, 256));
  serve_cmd->add_option("--local-worker-slots", serve.local_worker_slots, "slots per local worker (default: cores)");
  add_log_flags(serve_cmd, &serve.log_file);

  examples->SetExamples(serve_cmd, "  ingest-coordinator serve --config ingest.yaml --bind tcp://0.0.0.0:5555");

  std::string retention_file;
  CLI::App* retention_cmd = app.add_subcommand(
      "retention", "gzip old run logs and delete old job directories of the env (retention.*), under the run lock");
  retention_cmd->add_option("--config", retention_file, "config file")->required();

  examples->SetExamples(retention_cmd, "  ingest-coordinator retention --config ingest.yaml");

  std::string verify_dir;
  CLI::App* verify_cmd = app.add_subcommand(
      "verify",
      "re-hash every artifact of a job, re-validate its records and manifest (exit 0, or 1 listing what is wrong)");
  verify_cmd->add_option("--job-dir", verify_dir, "job directory, e.g. artifacts/prod/job_...")->required();

  examples->SetExamples(verify_cmd,
                        "  ingest-coordinator verify --job-dir artifacts/ingest/prod/job_2026-12-06T02-00-00");

  std::string keygen_prefix;
  CLI::App* keygen_cmd =
      app.add_subcommand("keygen", "write a CurveZMQ key pair: PREFIX.key (secret, mode 0600) and PREFIX.pub");
  keygen_cmd->add_option("prefix", keygen_prefix, "path prefix, e.g. keys/worker-1")->required();

  examples->SetExamples(keygen_cmd,
                        "  ingest-coordinator keygen keys/worker-1   # keys/worker-1.key, keys/worker-1.pub");

  if (std::optional<int> done = ingest::ParseCommandLine(app, "ingest-coordinator", argc, argv, ingest::kExitUsage)) {
    return *done;
  }
  ingest::InitLogging(verbose ? spdlog::level::debug : spdlog::level::from_str(log_level));
  if (*check_cmd) return ingest::CheckConfig(check_file, check_syntax_only);
  if (*keygen_cmd) return ingest::GenerateKeys(keygen_prefix);
  if (*verify_cmd) return ingest::VerifyJobDir(verify_dir);
  if (*retention_cmd) return ingest::ApplyRetention(retention_file);
  if (*serve_cmd) return ingest::ServeDaemon(serve);
  // The run entry of the manifest records the flags as given.
  for (int i = 2; i < argc; ++i) run.flags.emplace_back(argv[i]);
  return ingest::RunCoordinator(run);
}

}  // namespace

int main(int argc, char** argv) {
  // Errors are returned, not thrown; anything that still escapes (a library
  // that throws) ends the process with a message rather than an abort.
  try {
    return Main(argc, argv);
  } catch (const std::exception& e) {
    std::cerr << "ingest-coordinator: unexpected error: " << e.what() << "\n";
    return 1;
  }
}
