// CURVE keys for an end-to-end test of a daemon with [auth] keys, made in
// one directory: the daemon's ("server"), a publisher's ("writer", allowed
// in ingest.d), a read-only client's ("reader", allowed in query.d), one
// with both roles ("admin") and an unknown one ("stranger", in neither).
#ifndef CW_TESTS_SUPPORT_DAEMON_KEYS_H_
#define CW_TESTS_SUPPORT_DAEMON_KEYS_H_

#include <string>
#include <vector>

#include "auth/client_keys.h"

namespace cw::testing {

class DaemonKeys {
 public:
  explicit DaemonKeys(std::string dir);  // makes the keys under `dir`

  // conceptwatchd's flags for them: --secret-key, --ingest-keys, --query-keys.
  std::vector<std::string> daemon_args() const;
  // A client holding `name`'s secret key and the daemon's public key.
  ClientKeyFiles as(const std::string& name) const;
  // The CLI's flags for the same.
  std::string cli_args(const std::string& name) const;

 private:
  std::string dir_;
};

}  // namespace cw::testing

#endif  // CW_TESTS_SUPPORT_DAEMON_KEYS_H_
