#include "coordinator/fleet/local_workers.h"

#include <signal.h>
#include <spdlog/spdlog.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <thread>

namespace ingest {

LocalWorkers::~LocalWorkers() { Stop(); }

Status LocalWorkers::Start(int count, const std::string& endpoint, unsigned slots,
                           const std::vector<std::string>& extra_args) {
  std::error_code ec;
  std::filesystem::path self = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (ec) return Internal("cannot locate own binary: " + ec.message());
  std::string worker = (self.parent_path() / "ingest-worker").string();
  if (::access(worker.c_str(), X_OK) != 0)
    return NotFound(worker + ": ingest-worker not found next to the coordinator");
  for (int i = 0; i < count; ++i) {
    std::string id = "local-" + std::to_string(::getpid()) + "-" + std::to_string(i + 1);
    std::string slots_text = std::to_string(slots);
    pid_t parent = ::getpid();
    pid_t pid = ::fork();
    if (pid < 0) return ErrnoStatus(errno, "fork of local worker");
    if (pid == 0) {
      // The child dies with its coordinator rather than reconnecting forever.
      ::prctl(PR_SET_PDEATHSIG, SIGTERM);
      if (::getppid() != parent) ::_exit(0);
      std::vector<const char*> argv = {worker.c_str(), "--connect", endpoint.c_str(), "--id", id.c_str()};
      if (slots > 0) {
        argv.push_back("--slots");
        argv.push_back(slots_text.c_str());
      }
      for (const std::string& arg : extra_args) argv.push_back(arg.c_str());
      argv.push_back(nullptr);
      ::execv(worker.c_str(), const_cast<char* const*>(argv.data()));
      ::_exit(127);
    }
    pids_.push_back(pid);
  }
  spdlog::info("started {} local workers", count);
  return Status::Ok();
}

void LocalWorkers::Signal() {
  for (pid_t pid : pids_) ::kill(pid, SIGTERM);
}

bool LocalWorkers::Reap() {
  std::erase_if(pids_, [](pid_t pid) { return ::waitpid(pid, nullptr, WNOHANG) == pid; });
  return pids_.empty();
}

void LocalWorkers::Stop(int grace_ms) {
  if (pids_.empty()) return;
  for (pid_t pid : pids_) ::kill(pid, SIGTERM);
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(grace_ms);
  std::vector<pid_t> left = pids_;
  while (!left.empty()) {
    std::erase_if(left, [](pid_t pid) { return ::waitpid(pid, nullptr, WNOHANG) == pid; });
    if (left.empty()) break;
    if (std::chrono::steady_clock::now() >= deadline) {
      for (pid_t pid : left) {
        spdlog::warn("local worker {} did not drain in {} ms; killing it", pid, grace_ms);
        ::kill(pid, SIGKILL);
        ::waitpid(pid, nullptr, 0);
      }
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  pids_.clear();
}

}  // namespace ingest
