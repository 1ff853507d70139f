// Who may use conceptwatchd's sockets: [auth] in the daemon's config.
//
// Without a secret key the sockets take anyone who can connect, which is
// safe only when nobody else can connect: loopback (127.0.0.0/8, ::1,
// localhost) or a Unix socket (ipc://, guarded by file permissions). With
// one, both sockets speak CURVE and a client is let in only if its public
// key is in the directory of the socket's role:
//   ingest_keys  may publish (create runs, add taps, store snapshots);
//   query_keys   may query (read everything, change nothing).
// A key in one directory only has that role; put it in both for both.
#ifndef CW_AUTH_AUTH_CONFIG_H_
#define CW_AUTH_AUTH_CONFIG_H_

#include <string>
#include <vector>

namespace cw {

struct AuthConfig {
  std::string secret_key;   // the daemon's .secret file; empty: no CURVE
  std::string ingest_keys;  // directory of .pub files allowed to publish
  std::string query_keys;   // directory of .pub files allowed to query
  // Listen beyond loopback without CURVE (a private network's choice).
  bool allow_unauthenticated = false;

  bool curve() const { return !secret_key.empty(); }
};

// Whether only this machine can connect to `endpoint` (tcp:// on a loopback
// address or localhost, ipc://, inproc://). Wildcards, interface names and
// other hosts are not loopback.
bool is_loopback_endpoint(const std::string& endpoint);

// Throws std::runtime_error saying what to do when the settings are
// incomplete, CURVE is missing from libzmq, a key or directory cannot be
// read or may be written by anyone, or an endpoint beyond loopback would
// take unauthenticated peers.
void check_auth_config(const AuthConfig& auth, const std::vector<std::string>& endpoints);

}  // namespace cw

#endif  // CW_AUTH_AUTH_CONFIG_H_
