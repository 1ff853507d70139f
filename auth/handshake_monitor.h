// Tells a client why it gets no answer: a daemon that refuses a key (or
// speaks CURVE to a client without keys) closes the connection during the
// handshake, which otherwise looks exactly like a daemon that is down.
// Watches one socket's handshake events through a ZeroMQ socket monitor.
#ifndef CW_AUTH_HANDSHAKE_MONITOR_H_
#define CW_AUTH_HANDSHAKE_MONITOR_H_

#include <string>

namespace cw {

class HandshakeMonitor {
 public:
  // `context` and `socket` are libzmq handles; call before the socket
  // connects. `endpoint` and `role` ("ingest", "query") are for messages;
  // `curve`: whether the client uses keys.
  HandshakeMonitor(void* context, void* socket, std::string endpoint, std::string role, bool curve);
  ~HandshakeMonitor();  // before the socket closes
  HandshakeMonitor(const HandshakeMonitor&) = delete;
  HandshakeMonitor& operator=(const HandshakeMonitor&) = delete;

  // Reads the events so far without waiting. Returns what a user should be
  // told about the latest failed handshake, or "" when none failed since
  // the last one that succeeded.
  std::string failure();

 private:
  void* socket_;
  void* events_;  // PAIR socket receiving the monitor's events
  std::string endpoint_, role_;
  bool curve_;
  std::string failure_;
};

}  // namespace cw

#endif  // CW_AUTH_HANDSHAKE_MONITOR_H_
