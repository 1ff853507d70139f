// The CLI's side of the query socket.
#ifndef CW_QUERY_DAEMON_CLIENT_H_
#define CW_QUERY_DAEMON_CLIENT_H_

#include <chrono>
#include <memory>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>

#include "auth/client_keys.h"

namespace cw {

// No answer from the daemon within the timeout.
class DaemonUnreachable : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// The daemon is up but will not talk to this client: its key is refused,
// or one side uses CURVE and the other does not. Not a reason to read the
// data directory instead.
class DaemonRefused : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class DaemonClient {
 public:
  // `keys`: CURVE key files for a daemon with [auth] keys; this client's
  // public key must be in its query_keys. Throws std::invalid_argument on
  // an unusable key file. `role` names the socket in refusals: "query", or
  // "ingest" for the write commands the ingest socket takes (delete_run),
  // for which the key must be in ingest_keys.
  DaemonClient(std::string endpoint, std::chrono::milliseconds timeout, const ClientKeyFiles& keys = {},
               const std::string& role = "query");
  ~DaemonClient();
  // Throws DaemonUnreachable, DaemonRefused, or QueryError with the
  // daemon's message.
  nlohmann::json query(const std::string& command, const nlohmann::json& params = nlohmann::json::object());

 private:
  struct Rep;
  std::unique_ptr<Rep> rep_;
};

}  // namespace cw

#endif  // CW_QUERY_DAEMON_CLIENT_H_
