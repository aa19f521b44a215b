#pragma once

#include <atomic>
#include <set>
#include <string>
#include <thread>
#include <vector>

namespace zmq {
class context_t;
class socket_t;
}  // namespace zmq

namespace ingest {

// Answers ZeroMQ's authentication requests (ZAP, RFC 27) for the fleet's
// CURVE handshakes: a worker whose public key is not in the authorized list
// never completes its connection, so it can neither send a frame nor get a
// task. Runs on its own thread from construction to destruction, because
// libzmq asks while the handshake is in progress, whatever the broker's
// thread is doing.
class ZapAuthenticator {
 public:
  // `authorized` holds Z85 public keys. `context` must outlive it.
  ZapAuthenticator(zmq::context_t& context, const std::vector<std::string>& authorized);
  ~ZapAuthenticator();
  ZapAuthenticator(const ZapAuthenticator&) = delete;
  ZapAuthenticator& operator=(const ZapAuthenticator&) = delete;

  // Handshakes refused so far.
  uint64_t refused() const { return refused_.load(); }

 private:
  void Serve(zmq::socket_t socket);

  std::set<std::string> authorized_;  // 32-byte binary keys
  std::atomic<bool> stop_{false};
  std::atomic<uint64_t> refused_{0};
  std::thread thread_;
};

}  // namespace ingest
