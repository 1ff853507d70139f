// An address written "host:port" in a setting or flag: the HTTP port's
// [http] listen, the trainer ranks' [analysis] trainer_listen, and
// conceptwatch-trainer's --store. One parser, so all three take the same
// forms ("127.0.0.1:7783", "localhost:7783", "[::1]:7783") and refuse the
// same mistakes with the same words. Torch- and httplib-free.
#ifndef CW_OBSERVE_HOST_PORT_H_
#define CW_OBSERVE_HOST_PORT_H_

#include <string>

namespace cw {

struct HostPort {
  std::string host;  // IPv6 brackets removed
  int port = 0;
};

// Throws std::runtime_error naming `setting` (e.g. "[http] listen") and
// saying how to write it, when `address` has no host, no port, a port that
// is not a number in 1-65535, or an unclosed '['. Port 0 ("any free port")
// only where `allow_any_port`.
HostPort split_host_port(const std::string& address, const std::string& setting, bool allow_any_port);

}  // namespace cw

#endif  // CW_OBSERVE_HOST_PORT_H_
