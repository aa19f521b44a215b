#pragma once

#include <string>
#include <utility>
#include <zmq.hpp>

namespace ingest {

// A frame ZeroMQ sends without copying it: the message takes the bytes over
// and frees them once sent. Task and result frames carry documents' records
// (tens of kilobytes each, hundreds of megabytes a run): zmq::buffer would
// copy every one of them once more.
inline zmq::message_t OwnedFrame(std::string bytes) {
  auto* owned = new std::string(std::move(bytes));
  return zmq::message_t(
      owned->data(), owned->size(), [](void*, void* hint) { delete static_cast<std::string*>(hint); }, owned);
}

}  // namespace ingest
