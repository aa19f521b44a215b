#pragma once

#include <cstdint>
#include <filesystem>
#include <string>

#include "worker/formats/formats.h"

namespace ingest {

struct WorkerOptions {
  // Coordinator endpoint, e.g. tcp://127.0.0.1:5555.
  std::string connect;
  // Tasks run at once; 0 means one per core.
  uint32_t slots = 0;
  // Name in the coordinator's logs; empty means hostname-pid.
  std::string id;
  uint32_t heartbeat_ms = 1000;
  // Limits on untrusted documents: text size, and the PDF helper's CPU time,
  // memory and wall-clock time.
  ExtractLimits limits;
  // CurveZMQ (Z85): the coordinator's public key and this worker's key pair;
  // all empty for a plain connection.
  std::string curve_server_key;
  std::string curve_public_key;
  std::string curve_secret_key;
  // Where the worker keeps its health for `ingest-worker probe` (rewritten
  // about once a second); empty: none.
  std::filesystem::path health_file;
};

// Runs a worker until SIGINT or SIGTERM, then drains: it tells the
// coordinator (DRAIN, with the tasks it had not started), finishes the tasks
// it is running, sends their results and returns 0. Returns 1 when the
// coordinator rejects it (protocol version) and 2 for bad options.
int RunWorker(const WorkerOptions& options);

}  // namespace ingest
