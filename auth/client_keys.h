// A client's side of CURVE (the hooks' Publisher, the CLI): the daemon's
// public key and this client's own secret key, as file paths. Both empty:
// no CURVE, for a daemon on loopback without keys (the default).
#ifndef CW_AUTH_CLIENT_KEYS_H_
#define CW_AUTH_CLIENT_KEYS_H_

#include <string>

namespace cw {

struct ClientKeyFiles {
  std::string server_key;  // the daemon's .pub file
  std::string secret_key;  // this client's .secret file (mode 0600)

  bool curve() const { return !server_key.empty() || !secret_key.empty(); }
};

// Makes `socket` (a libzmq socket handle, before connect) a CURVE client
// with those keys. Throws std::invalid_argument naming the file when one
// of the two is missing, unreadable or not a key.
void use_client_keys(void* socket, const ClientKeyFiles& files);

}  // namespace cw

#endif  // CW_AUTH_CLIENT_KEYS_H_
