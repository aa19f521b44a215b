#include "coordinator/fleet/zap_authenticator.h"

#include <spdlog/spdlog.h>

#include <zmq.hpp>

#include "common/curve_keys.h"

namespace ingest {
namespace {

// libzmq sends every handshake's request to this fixed endpoint.
constexpr const char* kZapEndpoint = "inproc://zeromq.zap.01";
constexpr int kPollMs = 100;

}  // namespace

ZapAuthenticator::ZapAuthenticator(zmq::context_t& context, const std::vector<std::string>& authorized) {
  for (const std::string& key : authorized) authorized_.insert(CurveKeyBytes(key));
  // Bound before the fleet socket exists, so no handshake can find nobody
  // answering (libzmq would then let it through).
  zmq::socket_t socket(context, zmq::socket_type::rep);
  socket.set(zmq::sockopt::linger, 0);
  socket.bind(kZapEndpoint);
  thread_ = std::thread(&ZapAuthenticator::Serve, this, std::move(socket));
}

ZapAuthenticator::~ZapAuthenticator() {
  stop_ = true;
  thread_.join();
}

void ZapAuthenticator::Serve(zmq::socket_t socket) {
  while (!stop_) {
    zmq::pollitem_t items[] = {{socket.handle(), 0, ZMQ_POLLIN, 0}};
    try {
      if (zmq::poll(items, 1, std::chrono::milliseconds(kPollMs)) == 0) continue;
      // version, request id, domain, address, routing id, mechanism, credentials...
      std::vector<std::string> request;
      do {
        zmq::message_t part;
        if (!socket.recv(part)) break;
        request.push_back(part.to_string());
      } while (socket.get(zmq::sockopt::rcvmore));
      const bool curve = request.size() >= 7 && request[5] == "CURVE";
      const bool allowed = curve && authorized_.count(request[6]) > 0;
      if (!allowed) {
        ++refused_;
        spdlog::warn("fleet: refused a worker from {}: {}", request.size() > 3 ? request[3] : "?",
                     curve ? "CURVE key " + CurveKeyText(request[6]) + " is not in fleet.curve.authorized_keys_file"
                           : "not a CURVE handshake");
      }
      const std::vector<std::string> reply = {
          request.empty() ? "1.0" : request[0], request.size() > 1 ? request[1] : "",    allowed ? "200" : "400",
          allowed ? "OK" : "unauthorized",      allowed ? CurveKeyText(request[6]) : "", ""};
      for (size_t i = 0; i < reply.size(); ++i) {
        socket.send(zmq::buffer(reply[i]), i + 1 < reply.size() ? zmq::send_flags::sndmore : zmq::send_flags::none);
      }
    } catch (const zmq::error_t& e) {
      if (e.num() == ETERM) return;
      if (e.num() != EINTR) spdlog::error("fleet: authentication handler: {}", e.what());
    }
  }
}

}  // namespace ingest
