#include <CLI/CLI.hpp>

#include "common/run_log.h"
#include "worker/worker.h"

int main(int argc, char** argv) {
  CLI::App app{"ingest-worker: runs ingestfleet pass tasks for a coordinator"};
  ingest::WorkerOptions options;
  bool verbose = false;
  app.add_option("--connect", options.connect, "coordinator endpoint, e.g. tcp://127.0.0.1:5555")->required();
  app.add_option("--slots", options.slots, "tasks run at once (default: number of cores)");
  app.add_option("--id", options.id, "worker name (default: hostname-pid)");
  app.add_option("--heartbeat-ms", options.heartbeat_ms, "heartbeat interval, milliseconds")
      ->check(CLI::Range(10u, 600000u));
  app.add_flag("-v,--verbose", verbose, "debug logging");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }
  ingest::InitLogging(verbose);
  return ingest::RunWorker(options);
}
