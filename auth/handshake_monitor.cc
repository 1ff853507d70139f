#include "auth/handshake_monitor.h"

#include <zmq.h>

#include <atomic>
#include <cstdint>
#include <cstring>
#include <stdexcept>

namespace cw {
namespace {

std::atomic<uint64_t> g_next_monitor{0};

constexpr int kEvents = ZMQ_EVENT_HANDSHAKE_SUCCEEDED | ZMQ_EVENT_HANDSHAKE_FAILED_AUTH |
                        ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL | ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL;

}  // namespace

HandshakeMonitor::HandshakeMonitor(void* context, void* socket, std::string endpoint, std::string role, bool curve)
    : socket_(socket), endpoint_(std::move(endpoint)), role_(std::move(role)), curve_(curve) {
  const std::string address = "inproc://cw-handshake-" + std::to_string(g_next_monitor++);
  if (zmq_socket_monitor(socket_, address.c_str(), kEvents) != 0)
    throw std::runtime_error(std::string("cannot monitor a socket: ") + zmq_strerror(zmq_errno()));
  events_ = zmq_socket(context, ZMQ_PAIR);
  const int linger = 0;
  zmq_setsockopt(events_, ZMQ_LINGER, &linger, sizeof linger);
  if (!events_ || zmq_connect(events_, address.c_str()) != 0)
    throw std::runtime_error(std::string("cannot monitor a socket: ") + zmq_strerror(zmq_errno()));
}

HandshakeMonitor::~HandshakeMonitor() {
  zmq_socket_monitor(socket_, nullptr, 0);
  zmq_close(events_);
}

std::string HandshakeMonitor::failure() {
  while (true) {
    // An event: [uint16 event, uint32 value] then the peer's address.
    zmq_msg_t head;
    zmq_msg_init(&head);
    if (zmq_msg_recv(&head, events_, ZMQ_DONTWAIT) < 0) {
      zmq_msg_close(&head);
      return failure_;
    }
    uint16_t event = 0;
    uint32_t value = 0;
    if (zmq_msg_size(&head) >= 6) {
      std::memcpy(&event, zmq_msg_data(&head), 2);
      std::memcpy(&value, static_cast<const char*>(zmq_msg_data(&head)) + 2, 4);
    }
    const bool more = zmq_msg_more(&head);
    zmq_msg_close(&head);
    if (more) {
      zmq_msg_t address;
      zmq_msg_init(&address);
      zmq_msg_recv(&address, events_, 0);
      zmq_msg_close(&address);
    }
    const std::string daemon = "conceptwatchd at " + endpoint_;
    switch (event) {
      case ZMQ_EVENT_HANDSHAKE_SUCCEEDED:
        failure_.clear();
        break;
      case ZMQ_EVENT_HANDSHAKE_FAILED_AUTH:
        failure_ = daemon + " refused this client's key: its public key is not among the daemon's allowed " + role_ +
                   " keys ([auth] " + role_ + "_keys)";
        break;
      case ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL:
        if (value == ZMQ_PROTOCOL_ERROR_ZMTP_MECHANISM_MISMATCH) {
          failure_ = curve_ ? daemon + " does not use CURVE: drop the keys, or give the daemon [auth] keys"
                            : daemon + " requires CURVE keys: give the daemon's public key and your secret key "
                                       "(--server-key and --secret-key; README \"Authentication\")";
        } else {
          failure_ = "the handshake with " + daemon + " failed (protocol error " + std::to_string(value) + ")";
        }
        break;
      case ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL:
        // Also a connection lost mid-handshake (a daemon restarting): only
        // a CURVE client can blame its keys.
        if (curve_)
          failure_ = "the CURVE handshake with " + daemon +
                     " failed: is the server key the daemon's public key, and does the daemon use CURVE?";
        break;
      default:
        break;
    }
  }
}

}  // namespace cw
