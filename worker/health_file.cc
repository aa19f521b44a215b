#include "worker/health_file.h"

#include <charconv>
#include <map>
#include <sstream>

#include "common/atomic_file.h"

namespace ingest {
namespace {

int64_t UnixMs(WallTime t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

WallTime FromUnixMs(int64_t ms) { return WallTime(std::chrono::milliseconds(ms)); }

std::string Age(WallTime then, WallTime now) {
  return std::to_string(std::chrono::duration_cast<std::chrono::seconds>(now - then).count()) + " s ago";
}

}  // namespace

Status WriteWorkerHealth(const std::filesystem::path& path, const WorkerHealth& health) {
  std::ostringstream out;
  out << "worker_id " << health.worker_id << "\n"
      << "coordinator " << health.coordinator << "\n"
      << "connected " << (health.connected ? 1 : 0) << "\n"
      << "draining " << (health.draining ? 1 : 0) << "\n"
      << "tasks_running " << health.tasks_running << "\n"
      << "updated_unix_ms " << UnixMs(health.updated) << "\n"
      << "last_heard_unix_ms " << UnixMs(health.last_heard) << "\n";
  return WriteFileAtomic(path, out.str()).WithContext("worker health file " + path.string());
}

Result<WorkerHealth> ReadWorkerHealth(const std::filesystem::path& path) {
  Result<std::string> text = ReadFile(path);
  if (text.status().code() == StatusCode::kNotFound) {
    return NotFound("worker health file " + path.string() + " does not exist (has the worker started?)");
  }
  if (!text.ok()) return text.status();
  std::map<std::string, std::string> fields;
  std::istringstream lines(*text);
  std::string line;
  while (std::getline(lines, line)) {
    const size_t space = line.find(' ');
    if (space != std::string::npos) fields[line.substr(0, space)] = line.substr(space + 1);
  }
  auto number = [&](const std::string& key, int64_t* value) {
    auto it = fields.find(key);
    if (it == fields.end()) return false;
    const char* last = it->second.data() + it->second.size();
    auto [end, error] = std::from_chars(it->second.data(), last, *value);
    return error == std::errc() && end == last;
  };
  int64_t connected = 0;
  int64_t draining = 0;
  int64_t running = 0;
  int64_t updated = 0;
  int64_t heard = 0;
  if (!number("connected", &connected) || !number("draining", &draining) || !number("tasks_running", &running) ||
      !number("updated_unix_ms", &updated) || !number("last_heard_unix_ms", &heard)) {
    return InvalidArgument("worker health file " + path.string() + ": not written by ingest-worker");
  }
  return WorkerHealth{.worker_id = fields["worker_id"],
                      .coordinator = fields["coordinator"],
                      .connected = connected != 0,
                      .draining = draining != 0,
                      .tasks_running = static_cast<uint32_t>(running),
                      .updated = FromUnixMs(updated),
                      .last_heard = FromUnixMs(heard)};
}

Status CheckWorkerHealth(const WorkerHealth& health, WorkerProbe probe, std::chrono::seconds max_age, WallTime now) {
  if (now - health.updated > max_age) {
    return Unavailable("worker " + health.worker_id + ": its loop last wrote its health " + Age(health.updated, now) +
                       " (more than " + std::to_string(max_age.count()) + " s): it is stuck");
  }
  if (probe == WorkerProbe::kLive) return Status::Ok();
  if (health.draining) return Unavailable("worker " + health.worker_id + ": draining");
  if (!health.connected) {
    return Unavailable("worker " + health.worker_id + ": not connected to " + health.coordinator +
                       (UnixMs(health.last_heard) == 0 ? " (never heard from it)"
                                                       : " (last heard " + Age(health.last_heard, now) + ")"));
  }
  return Status::Ok();
}

}  // namespace ingest
