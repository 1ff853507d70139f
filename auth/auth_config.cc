#include "auth/auth_config.h"

#include <filesystem>
#include <stdexcept>

#include "auth/curve_keys.h"

namespace cw {

bool is_loopback_endpoint(const std::string& endpoint) {
  if (endpoint.rfind("ipc://", 0) == 0 || endpoint.rfind("inproc://", 0) == 0) return true;
  if (endpoint.rfind("tcp://", 0) != 0) return false;  // pgm, ws, ...: not ours to judge
  const std::string address = endpoint.substr(6);
  // The host ends at the last ':' (the port); IPv6 hosts are bracketed.
  const auto colon = address.rfind(':');
  const std::string host = colon == std::string::npos ? address : address.substr(0, colon);
  if (host == "localhost" || host == "[::1]") return true;
  // 127.0.0.0/8, written out in full: "127.1" or a host name starting with
  // "127." is not taken on trust.
  if (host.rfind("127.", 0) != 0) return false;
  int dots = 0;
  for (char c : host) {
    if (c == '.') {
      ++dots;
    } else if (c < '0' || c > '9') {
      return false;
    }
  }
  return dots == 3;
}

void check_auth_config(const AuthConfig& auth, const std::vector<std::string>& endpoints) {
  namespace fs = std::filesystem;
  if (!auth.curve()) {
    if (!auth.ingest_keys.empty() || !auth.query_keys.empty())
      throw std::runtime_error("[auth] ingest_keys/query_keys need secret_key, the daemon's own key (make it with "
                               "`conceptwatch keygen`)");
    if (auth.allow_unauthenticated) return;
    for (const auto& endpoint : endpoints) {
      if (!is_loopback_endpoint(endpoint))
        throw std::runtime_error(
            "refusing to listen on " + endpoint +
            " without authentication: anyone who can reach it could create runs, add taps, read all probe data "
            "and raise alerts. Give the daemon keys ([auth] secret_key, ingest_keys, query_keys; README "
            "\"Authentication\"), or listen on 127.0.0.1, or, on a private network only, pass "
            "--allow-unauthenticated ([auth] allow_unauthenticated = true)");
    }
    return;
  }
  if (!curve_available())
    throw std::runtime_error("[auth] secret_key is set but this libzmq was built without CURVE (zmq_has(\"curve\") is false)");
  read_secret_key(auth.secret_key);  // throws with the reason
  for (const auto& [key, dir] : {std::pair{"ingest_keys", auth.ingest_keys}, std::pair{"query_keys", auth.query_keys}}) {
    std::error_code error;
    if (dir.empty())
      throw std::runtime_error(std::string("[auth] ") + key + " is needed with secret_key: the directory of public keys (.pub) allowed to " +
                               (std::string(key) == "ingest_keys" ? "publish" : "query"));
    if (!fs::is_directory(dir, error))
      throw std::runtime_error(std::string("[auth] ") + key + " " + dir + " is not a directory");
    // Whoever can write the directory decides who gets in (ssh's
    // StrictModes refuses the same); a group may manage it.
    if ((fs::status(dir, error).permissions() & fs::perms::others_write) != fs::perms::none)
      throw std::runtime_error(std::string("[auth] ") + key + " " + dir +
                               " may be written by anyone, who could add their own key: chmod o-w " + dir);
  }
}

}  // namespace cw
