// The coordinator's broker handling frames from peers: a real ROUTER on
// inproc, two DEALER peers (one introduced by READY, one a stranger), each
// input sent as one frame or split in two, then one round of the broker's
// loop (receive, handle, heartbeat, reap). Between passes, as here, results
// and drains of tasks nobody dispatched must be refused quietly.

#include <cerrno>
#include <memory>
#include <utility>
#include <zmq.hpp>

#include "common/clock.h"
#include "common/fleet_protocol.h"
#include "coordinator/fleet/broker.h"
#include "fuzz/fuzz_scratch.h"

namespace ingest::fuzz {
namespace {

// libFuzzer's timer (SIGALRM, for -timeout) can interrupt a ZeroMQ call of
// the harness's own, which throws EINTR; the call is made again.
template <typename Call>
auto RetryOnEintr(Call call) {
  while (true) {
    try {
      return call();
    } catch (const zmq::error_t& e) {
      if (e.num() != EINTR) throw;
    }
  }
}

struct Harness {
  zmq::context_t context{1};
  std::unique_ptr<Broker> broker;
  zmq::socket_t known{context, zmq::socket_type::dealer};
  zmq::socket_t stranger{context, zmq::socket_type::dealer};

  Harness() {
    FleetConfig fleet;
    fleet.heartbeat_ms = 50;
    fleet.liveness = 1000000;  // the known peer stays known between inputs
    broker = std::make_unique<Broker>(context, fleet, RetryConfig{}, Clock::Steady());
    Require(broker->Bind("inproc://fuzz-broker").ok());
    for (auto [socket, id] : {std::pair<zmq::socket_t*, const char*>{&known, "known"}, {&stranger, "stranger"}}) {
      socket->set(zmq::sockopt::routing_id, id);
      socket->set(zmq::sockopt::linger, 0);
      socket->connect("inproc://fuzz-broker");
    }
    Envelope ready;
    ready.mutable_ready()->set_worker_id("known");
    ready.mutable_ready()->set_slots(2);
    ready.mutable_ready()->set_version("fuzz");
    const std::string frame = EncodeEnvelope(ready);
    RetryOnEintr([&] { return known.send(zmq::buffer(frame), zmq::send_flags::none); });
    OneRound();
  }

  void OneRound() {
    bool polled = false;
    Require(broker->Idle(Clock::TimePoint::max(), [&] { return std::exchange(polled, true); }).ok());
    // What the broker answered (heartbeats, ANNOUNCE) is read and dropped.
    zmq::message_t answer;
    for (zmq::socket_t* socket : {&known, &stranger}) {
      while (RetryOnEintr([&] { return socket->recv(answer, zmq::recv_flags::dontwait); })) {
      }
    }
  }
};

}  // namespace
}  // namespace ingest::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static ingest::fuzz::Harness harness;
  if (size == 0) return 0;
  zmq::socket_t& peer = data[0] % 2 == 0 ? harness.known : harness.stranger;
  const std::string_view frame = ingest::fuzz::AsText(data + 1, size - 1);
  if (data[0] & 2) {
    const std::string_view first = frame.substr(0, frame.size() / 2);
    const std::string_view second = frame.substr(first.size());
    ingest::fuzz::RetryOnEintr([&] { return peer.send(zmq::buffer(first), zmq::send_flags::sndmore); });
    ingest::fuzz::RetryOnEintr([&] { return peer.send(zmq::buffer(second), zmq::send_flags::none); });
  } else {
    ingest::fuzz::RetryOnEintr([&] { return peer.send(zmq::buffer(frame), zmq::send_flags::none); });
  }
  harness.OneRound();
  return 0;
}
