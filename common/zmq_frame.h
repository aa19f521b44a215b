#pragma once

#include <string>
#include <utility>
#include <zmq.hpp>

#if defined(__SANITIZE_THREAD__)
extern "C" void __tsan_acquire(void* address);
extern "C" void __tsan_release(void* address);
#endif

namespace ingest {

// A frame ZeroMQ sends without copying it: the message takes the bytes over
// and frees them once sent. Task and result frames carry documents' records
// (tens of kilobytes each, hundreds of megabytes a run): zmq::buffer would
// copy every one of them once more.
inline zmq::message_t OwnedFrame(std::string bytes) {
  auto* owned = new std::string(std::move(bytes));
#if defined(__SANITIZE_THREAD__)
  // libzmq's I/O thread frees the bytes after a hand-over through its own
  // atomics, which ThreadSanitizer cannot see (tests/tsan.supp): said here,
  // so that the free is not reported as a race with the writes before it.
  __tsan_release(owned);
#endif
  return zmq::message_t(
      owned->data(), owned->size(),
      [](void*, void* hint) {
#if defined(__SANITIZE_THREAD__)
        __tsan_acquire(hint);
#endif
        delete static_cast<std::string*>(hint);
      },
      owned);
}

}  // namespace ingest
