// The CLI's side of the query socket.
#ifndef CW_QUERY_DAEMON_CLIENT_H_
#define CW_QUERY_DAEMON_CLIENT_H_

#include <chrono>
#include <memory>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>

namespace cw {

// No answer from the daemon within the timeout.
class DaemonUnreachable : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class DaemonClient {
 public:
  DaemonClient(std::string endpoint, std::chrono::milliseconds timeout);
  ~DaemonClient();
  // Throws DaemonUnreachable, or QueryError with the daemon's message.
  nlohmann::json query(const std::string& command, const nlohmann::json& params = nlohmann::json::object());

 private:
  struct Rep;
  std::unique_ptr<Rep> rep_;
};

}  // namespace cw

#endif  // CW_QUERY_DAEMON_CLIENT_H_
