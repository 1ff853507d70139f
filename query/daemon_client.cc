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

  // Waits for `events` on the socket in short slices, so that a refused
  // handshake ends the wait at once instead of after the whole timeout.
  bool wait_for(short events, std::chrono::steady_clock::time_point deadline) {
    while (true) {
      zmq::pollitem_t item{socket.handle(), 0, events, 0};
      zmq::poll(&item, 1, std::chrono::milliseconds(20));
      if (item.revents & events) return true;
      if (!handshakes->failure().empty() || std::chrono::steady_clock::now() >= deadline) return false;
    }
  }

  // No answer: refused, or really not there.
  [[noreturn]] void fail() {
    if (const std::string refused = handshakes->failure(); !refused.empty()) throw DaemonRefused(refused);
    throw DaemonUnreachable("conceptwatchd is not reachable at " + endpoint + " (no answer within " +
                            std::to_string(timeout.count()) + " ms)");
  }
};

DaemonClient::DaemonClient(std::string endpoint, std::chrono::milliseconds timeout, const ClientKeyFiles& keys,
                           const std::string& role)
    : rep_(std::make_unique<Rep>()) {
  rep_->endpoint = std::move(endpoint);
  rep_->timeout = timeout;
  rep_->socket.set(zmq::sockopt::linger, 0);
  rep_->socket.set(zmq::sockopt::immediate, 1);  // a send waits for a real connection
  use_client_keys(rep_->socket.handle(), keys);
  rep_->handshakes =
      std::make_unique<HandshakeMonitor>(rep_->context.handle(), rep_->socket.handle(), rep_->endpoint, role, keys.curve());
  rep_->socket.connect(rep_->endpoint);
}

DaemonClient::~DaemonClient() = default;

nlohmann::json DaemonClient::query(const std::string& command, const nlohmann::json& params) {
  const Frame frame = encode_query_frame(command, params);
  zmq::message_t request(frame.data(), frame.size());
  const auto deadline = std::chrono::steady_clock::now() + rep_->timeout;
  // With ZMQ_IMMEDIATE the socket is writable only once a connection has
  // completed its handshake.
  if (!rep_->wait_for(ZMQ_POLLOUT, deadline) || !rep_->socket.send(request, zmq::send_flags::dontwait)) rep_->fail();
  zmq::message_t reply;
  if (!rep_->wait_for(ZMQ_POLLIN, deadline) || !rep_->socket.recv(reply, zmq::recv_flags::dontwait)) rep_->fail();
  return decode_reply_frame(reply.data(), reply.size());
}

}  // namespace cw
