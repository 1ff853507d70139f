#include "query/daemon_client.h"

#include <zmq.hpp>

#include "query/query_protocol.h"

namespace cw {

struct DaemonClient::Rep {
  std::string endpoint;
  std::chrono::milliseconds timeout;
  zmq::context_t context;
  zmq::socket_t socket{context, zmq::socket_type::dealer};
};

DaemonClient::DaemonClient(std::string endpoint, std::chrono::milliseconds timeout) : rep_(std::make_unique<Rep>()) {
  rep_->endpoint = std::move(endpoint);
  rep_->timeout = timeout;
  rep_->socket.set(zmq::sockopt::linger, 0);
  rep_->socket.set(zmq::sockopt::immediate, 1);  // a send waits for a real connection
  rep_->socket.set(zmq::sockopt::sndtimeo, int(timeout.count()));
  rep_->socket.set(zmq::sockopt::rcvtimeo, int(timeout.count()));
  rep_->socket.connect(rep_->endpoint);
}

DaemonClient::~DaemonClient() = default;

nlohmann::json DaemonClient::query(const std::string& command, const nlohmann::json& params) {
  const Frame frame = encode_query_frame(command, params);
  zmq::message_t request(frame.data(), frame.size());
  const std::string unreachable = "conceptwatchd is not reachable at " + rep_->endpoint + " (no answer within " +
                                  std::to_string(rep_->timeout.count()) + " ms)";
  if (!rep_->socket.send(request, zmq::send_flags::none)) throw DaemonUnreachable(unreachable);
  zmq::message_t reply;
  if (!rep_->socket.recv(reply)) throw DaemonUnreachable(unreachable);
  return decode_reply_frame(reply.data(), reply.size());
}

}  // namespace cw
