#include "alerts/zmq_pub_sink.h"

#include <cerrno>
#include <stdexcept>
#include <utility>
#include <zmq.hpp>

#include "schema/json_text.h"

namespace cw {

// Its own context: the sink's socket lives on the sink's worker thread and
// must not share a context whose termination others control.
struct ZmqPubSink::Socket {
  zmq::context_t context{1};
  zmq::socket_t socket{context, zmq::socket_type::pub};
};

ZmqPubSink::ZmqPubSink(std::string endpoint) : endpoint_(std::move(endpoint)), socket_(std::make_unique<Socket>()) {
  socket_->socket.set(zmq::sockopt::linger, 0);
  try {
    socket_->socket.bind(endpoint_);
  } catch (const zmq::error_t& e) {
    throw std::runtime_error("zmq alert sink: cannot bind " + endpoint_ + ": " + e.what());
  }
}

ZmqPubSink::~ZmqPubSink() = default;

void ZmqPubSink::deliver(const Alert& alert) {
  std::string body = json_text(alert_to_json(alert));
  const std::string& topic = alert.name();
  // A send a signal interrupts (EINTR) sent nothing and is made again here:
  // thrown, the worker would deliver the alert again from its topic while
  // this message's topic part is already out ([topic, topic, body]).
  const std::pair<zmq::const_buffer, zmq::send_flags> parts[] = {{zmq::buffer(topic), zmq::send_flags::sndmore},
                                                                  {zmq::buffer(body), zmq::send_flags::none}};
  for (const auto& [bytes, flags] : parts) {
    for (bool sent = false; !sent;) {
      try {
        socket_->socket.send(bytes, flags);
        sent = true;
      } catch (const zmq::error_t& e) {
        if (e.num() != EINTR) throw;
      }
    }
  }
}

std::string ZmqPubSink::describe() const { return "zmq " + endpoint_; }

std::string ZmqPubSink::last_endpoint() const { return socket_->socket.get(zmq::sockopt::last_endpoint); }

}  // namespace cw
