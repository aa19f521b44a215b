#pragma once

// INGEST_CHECK(cond) aborts with a message when an invariant of our own code is
// broken. Never use it for what the network, the disk or a user can cause:
// return a Status for those.
namespace ingest::internal {
[[noreturn]] void CheckFailed(const char* condition, const char* file, int line);
}  // namespace ingest::internal

#define INGEST_CHECK(condition)                                                        \
  do {                                                                                 \
    if (!(condition)) ::ingest::internal::CheckFailed(#condition, __FILE__, __LINE__); \
  } while (0)
