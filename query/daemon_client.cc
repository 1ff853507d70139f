#include "query/daemon_client.h"

#include <zmq.hpp>

#include "auth/handshake_monitor.h"
#include "query/query_protocol.h"

namespace cw {

struct DaemonClient::Rep {
  std::string endpoint;
  std::chrono::milliseconds timeout;
  zmq::context_t context;
  zmq::socket_t socket{context, zmq::socket_type::dealer};
  std::unique_ptr<HandshakeMonitor> handshakes;  // closes before the socket

  // No answer: refused, or really not there.
  [[noreturn]] void fail() {
    if (const std::string refused = handshakes->failure(); !refused.empty()) throw DaemonRefused(refused);
    throw DaemonUnreachable("conceptwatchd is not reachable at " + endpoint + " (no answer within " +
                            std::to_string(timeout.count()) + " ms)");
  }
};

DaemonClient::DaemonClient(std::string endpoint, std::chrono::milliseconds timeout, const ClientKeyFiles& keys)
    : rep_(std::make_unique<Rep>()) {
  rep_->endpoint = std::move(endpoint);
  rep_->timeout = timeout;
  rep_->socket.set(zmq::sockopt::linger, 0);
  rep_->socket.set(zmq::sockopt::immediate, 1);  // a send waits for a real connection
  rep_->socket.set(zmq::sockopt::sndtimeo, int(timeout.count()));
  rep_->socket.set(zmq::sockopt::rcvtimeo, int(timeout.count()));
  use_client_keys(rep_->socket.handle(), keys);
  rep_->handshakes =
      std::make_unique<HandshakeMonitor>(rep_->context.handle(), rep_->socket.handle(), rep_->endpoint, "query", keys.curve());
  rep_->socket.connect(rep_->endpoint);
}

DaemonClient::~DaemonClient() = default;

nlohmann::json DaemonClient::query(const std::string& command, const nlohmann::json& params) {
  const Frame frame = encode_query_frame(command, params);
  zmq::message_t request(frame.data(), frame.size());
  if (!rep_->socket.send(request, zmq::send_flags::none)) rep_->fail();
  zmq::message_t reply;
  if (!rep_->socket.recv(reply)) rep_->fail();
  return decode_reply_frame(reply.data(), reply.size());
}

}  // namespace cw
