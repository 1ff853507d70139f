#include "auth/client_keys.h"

#include <zmq.h>

#include <stdexcept>

#include "auth/curve_keys.h"

namespace cw {

void use_client_keys(void* socket, const ClientKeyFiles& files) {
  if (!files.curve()) return;
  if (files.server_key.empty() || files.secret_key.empty())
    throw std::invalid_argument("CURVE needs both the daemon's public key (server key) and this client's secret key");
  std::string server;
  CurveKeyPair own;
  try {
    server = read_public_key(files.server_key);
    own = read_secret_key(files.secret_key);
  } catch (const std::runtime_error& e) {
    throw std::invalid_argument(e.what());
  }
  if (zmq_setsockopt(socket, ZMQ_CURVE_SERVERKEY, server.c_str(), server.size()) != 0 ||
      zmq_setsockopt(socket, ZMQ_CURVE_PUBLICKEY, own.public_key.c_str(), own.public_key.size()) != 0 ||
      zmq_setsockopt(socket, ZMQ_CURVE_SECRETKEY, own.secret_key.c_str(), own.secret_key.size()) != 0) {
    throw std::invalid_argument(std::string("cannot use CURVE keys: ") + zmq_strerror(zmq_errno()));
  }
}

}  // namespace cw
