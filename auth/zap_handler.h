// The daemon's gatekeeper for CURVE sockets: answers ZeroMQ's
// authentication requests (ZAP, ZeroMQ RFC 27) in one context. A client is
// let in when its public key is one of the .pub files in the directory of
// the socket's ZAP domain ("ingest" or "query"); each role is its own
// directory, so a key allowed to query cannot publish.
//
// The directory is read again at each handshake (there are few: one per
// connection), so adding or removing a .pub file takes effect for the next
// connection without a restart; connections already open stay open.
#ifndef CW_AUTH_ZAP_HANDLER_H_
#define CW_AUTH_ZAP_HANDLER_H_

#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

namespace cw {

class ZapHandler {
 public:
  // `context`: the libzmq context of the sockets to guard (a void* handle);
  // `directories`: ZAP domain -> directory of allowed public keys. Binds
  // inproc://zeromq.zap.01 and answers on its own thread; throws
  // std::runtime_error if it cannot bind. Must exist before those sockets
  // accept connections: without a handler libzmq lets every CURVE key in.
  ZapHandler(void* context, std::map<std::string, std::string> directories);
  ~ZapHandler();  // stops the thread and closes its socket
  ZapHandler(const ZapHandler&) = delete;
  ZapHandler& operator=(const ZapHandler&) = delete;

  // Per domain: {"keys_dir", "keys" (allowed now), "accepted", "refused"}.
  nlohmann::json status() const;

 private:
  struct Rep;
  std::unique_ptr<Rep> rep_;
};

}  // namespace cw

#endif  // CW_AUTH_ZAP_HANDLER_H_
