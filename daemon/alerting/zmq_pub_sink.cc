#include "daemon/alerting/zmq_pub_sink.h"

#include <stdexcept>
#include <zmq.hpp>

namespace cw {

struct ZmqPubSink::Socket {
  zmq::context_t context{1};
  zmq::socket_t socket{context, zmq::socket_type::pub};
};

ZmqPubSink::ZmqPubSink(const std::string& endpoint) : socket_(std::make_unique<Socket>()) {
  socket_->socket.set(zmq::sockopt::linger, 0);  // shutdown never waits on subscribers
  try {
    socket_->socket.bind(endpoint);
  } catch (const zmq::error_t& e) {
    throw std::runtime_error("alert PUB socket: cannot bind " + endpoint + ": " + e.what());
  }
  bound_endpoint_ = socket_->socket.get(zmq::sockopt::last_endpoint);
}

ZmqPubSink::~ZmqPubSink() = default;

std::string ZmqPubSink::name() const { return "zmq " + bound_endpoint_; }

void ZmqPubSink::deliver(const Alert& alert) {
  auto topic = alert.labels.count("alertname") ? alert.labels.at("alertname") : std::string();
  std::string body = alert_to_json(alert).dump();
  auto sent_topic = socket_->socket.send(zmq::buffer(topic), zmq::send_flags::sndmore);
  auto sent_body = socket_->socket.send(zmq::buffer(body), zmq::send_flags::none);
  if (!sent_topic || !sent_body) throw std::runtime_error("alert PUB socket " + bound_endpoint_ + ": send failed");
}

}  // namespace cw
