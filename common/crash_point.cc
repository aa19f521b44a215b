#include "common/crash_point.h"

#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <string>

namespace ingest {
namespace {

struct Armed {
  std::string point;  // empty when unset
  std::string file;   // empty: any file, or a point without one
  long at = 1;        // the hit that crashes
};

const Armed& TheArmed() {
  static const Armed armed = [] {
    Armed a;
    const char* text = std::getenv("INGEST_CRASH_POINT");
    if (text == nullptr) return a;
    std::string spec = text;
    if (const size_t at = spec.rfind('@'); at != std::string::npos) {
      a.at = std::max(1L, std::atol(spec.c_str() + at + 1));
      spec.resize(at);
    }
    if (const size_t colon = spec.find(':'); colon != std::string::npos) {
      a.file = spec.substr(colon + 1);
      spec.resize(colon);
    }
    a.point = spec;
    return a;
  }();
  return armed;
}

void Hit(const Armed& armed) {
  static std::atomic<long> hits{0};
  if (hits.fetch_add(1) + 1 == armed.at) ::kill(::getpid(), SIGKILL);
}

}  // namespace

void CrashPoint(std::string_view point, std::string_view file) {
  const Armed& armed = TheArmed();
  if (armed.point != point) return;  // unset: "" matches no point
  if (armed.file.empty() || armed.file == file) Hit(armed);
}

}  // namespace ingest
