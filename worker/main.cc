#include <CLI/CLI.hpp>
#include <iostream>

#include "common/command_line.h"
#include "common/curve_keys.h"
#include "common/run_log.h"
#include "common/signals.h"
#include "worker/health_file.h"
#include "worker/worker.h"

namespace {

int Main(int argc, char** argv) {
  CLI::App app{"ingest-worker: runs ingestfleet pass tasks for a coordinator"};
  auto examples = ingest::UseExamples(
      app,
      "  ingest-worker --connect tcp://coordinator:5555 --slots 4 --health-file /tmp/worker.health\n"
      "  ingest-worker probe --health-file /tmp/worker.health --ready");
  ingest::WorkerOptions options;
  bool verbose = false;
  app.add_option("--connect", options.connect, "coordinator endpoint, e.g. tcp://127.0.0.1:5555 (required)");
  app.add_option("--health-file", options.health_file,
                 "keep this worker's health here, about once a second, for `ingest-worker probe`");
  app.add_option("--slots", options.slots, "tasks run at once (default: number of cores)");
  app.add_option("--id", options.id, "worker name (default: hostname-pid)");
  app.add_option("--heartbeat-ms", options.heartbeat_ms, "heartbeat interval, milliseconds")
      ->check(CLI::Range(10u, 600000u));
  uint64_t max_document_mb = options.limits.max_text_bytes >> 20;
  uint64_t pdf_memory_mb = options.limits.pdf_memory_bytes >> 20;
  app.add_option("--max-document-mb", max_document_mb, "largest document read, MiB (larger ones fail as too_large)")
      ->check(CLI::Range(uint64_t{1}, uint64_t{65536}));
  app.add_option("--pdf-timeout-s", options.limits.pdf_wall_seconds, "wall-clock limit of one PDF extraction, seconds")
      ->check(CLI::Range(1u, 86400u));
  app.add_option("--pdf-cpu-s", options.limits.pdf_cpu_seconds, "CPU-time limit of one PDF extraction, seconds")
      ->check(CLI::Range(1u, 86400u));
  app.add_option("--pdf-memory-mb", pdf_memory_mb, "address-space limit of the PDF helper, MiB")
      ->check(CLI::Range(uint64_t{64}, uint64_t{1} << 20));
  std::string curve_server_key_file;
  std::string curve_secret_key_file;
  auto* server_key = app.add_option("--curve-server-key", curve_server_key_file,
                                    "file with the coordinator's CURVE public key (turns on CurveZMQ)");
  auto* secret_key = app.add_option("--curve-secret-key", curve_secret_key_file,
                                    "file with this worker's CURVE secret key (`ingest-coordinator keygen`)");
  server_key->needs(secret_key);
  secret_key->needs(server_key);
  app.add_flag("-v,--verbose", verbose, "debug logging");

  CLI::App* probe = app.add_subcommand(
      "probe", "checks a worker's health file for a healthcheck or an exec probe: exit 0 healthy, 1 not");
  examples->SetExamples(probe,
                        "  ingest-worker probe --health-file /tmp/worker.health           # liveness: its loop runs\n"
                        "  ingest-worker probe --health-file /tmp/worker.health --ready   # readiness: connected, not "
                        "draining");
  std::string probe_file;
  bool ready = false;
  unsigned max_age_s = 30;
  probe->add_option("--health-file", probe_file, "the worker's --health-file")->required();
  probe->add_flag("--ready", ready, "also require a connection to a coordinator");
  probe->add_option("--max-age-s", max_age_s, "oldest health accepted, seconds (default 30)")
      ->check(CLI::Range(1u, 86400u));
  if (std::optional<int> done = ingest::ParseCommandLine(app, "ingest-worker", argc, argv, 2)) return *done;
  if (probe->parsed()) {
    ingest::Result<ingest::WorkerHealth> health = ingest::ReadWorkerHealth(probe_file);
    ingest::Status status = health.ok() ? ingest::CheckWorkerHealth(
                                              *health, ready ? ingest::WorkerProbe::kReady : ingest::WorkerProbe::kLive,
                                              std::chrono::seconds(max_age_s), std::chrono::system_clock::now())
                                        : health.status();
    if (!status.ok()) {
      std::cerr << "ingest-worker probe: " << status.message() << "\n";
      return 1;
    }
    std::cout << "ingest-worker probe: " << (ready ? "ready" : "live") << "\n";
    return 0;
  }
  if (options.connect.empty()) {
    std::cerr << "ingest-worker: --connect is required (e.g. --connect tcp://127.0.0.1:5555); see --help\n";
    return 2;
  }
  if (!curve_server_key_file.empty()) {
    ingest::Result<std::string> server = ingest::ReadCurvePublicKey(curve_server_key_file);
    ingest::Result<ingest::CurveKeyPair> own = ingest::ReadCurveSecretKey(curve_secret_key_file);
    for (const ingest::Status& s : {server.status(), own.status()}) {
      if (!s.ok()) {
        std::cerr << "ingest-worker: " << s.message() << "\n";
        return 2;
      }
    }
    options.curve_server_key = *server;
    options.curve_public_key = own->public_key;
    options.curve_secret_key = own->secret_key;
  }
  options.limits.max_text_bytes = max_document_mb << 20;
  options.limits.pdf_memory_bytes = pdf_memory_mb << 20;
  ingest::InitLogging(verbose ? spdlog::level::debug : spdlog::level::info);
  return ingest::RunWorker(options);
}

}  // namespace

int main(int argc, char** argv) {
  // First: a SIGTERM that comes while the worker starts (a scale-down right
  // after a scale-up) drains it, rather than killing it.
  ingest::CatchStopSignals();
  // Errors are returned, not thrown; anything that still escapes (a library
  // that throws) ends the process with a message rather than an abort.
  try {
    return Main(argc, argv);
  } catch (const std::exception& e) {
    std::cerr << "ingest-worker: unexpected error: " << e.what() << "\n";
    return 1;
  }
}
