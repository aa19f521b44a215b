#include "common/signals.h"

#include <atomic>
#include <csignal>

namespace ingest {
namespace {

// Lock-free, so the handler may write it.
std::atomic<int> g_caught{0};
static_assert(std::atomic<int>::is_always_lock_free);

void OnStopSignal(int signal) {
  int none = 0;
  g_caught.compare_exchange_strong(none, signal);
}

}  // namespace

void CatchStopSignals() {
  struct sigaction action {};
  action.sa_handler = OnStopSignal;
  sigemptyset(&action.sa_mask);
  sigaction(SIGINT, &action, nullptr);
  sigaction(SIGTERM, &action, nullptr);
}

int CaughtStopSignal() { return g_caught.load(); }

}  // namespace ingest
