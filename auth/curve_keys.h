// CURVE key pairs (ZeroMQ's public-key authentication and encryption) as
// files: Z85 text, one key per file, so that keys can be copied, listed and
// revoked with ordinary file tools.
//   NAME.pub     the public key: give it to whoever must recognize you
//   NAME.secret  the secret key: mode 0600, never leaves its owner
// The public key is derived from the secret one, so a client needs only its
// .secret file and the daemon's .pub file.
#ifndef CW_AUTH_CURVE_KEYS_H_
#define CW_AUTH_CURVE_KEYS_H_

#include <string>

namespace cw {

struct CurveKeyPair {
  std::string public_key;  // Z85, 40 characters
  std::string secret_key;  // Z85, 40 characters
};

// Whether this libzmq was built with CURVE (zmq_has("curve")).
bool curve_available();

// A fresh key pair; throws std::runtime_error without CURVE.
CurveKeyPair generate_key_pair();

// Writes `base`.pub and `base`.secret (mode 0600). Never overwrites: throws
// std::runtime_error naming the file if either exists or cannot be written.
void write_key_pair(const CurveKeyPair& pair, const std::string& base);

// Reads a .pub file; throws std::runtime_error naming the file when it is
// missing or does not hold one Z85 key.
std::string read_public_key(const std::string& path);

// Reads a .secret file and derives its public key. Throws like
// read_public_key, and also when group or others may read the file (as ssh
// does: a secret others can read is no longer secret).
CurveKeyPair read_secret_key(const std::string& path);

// A Z85 key's 32 bytes; empty when `z85` is not a 40-character Z85 key.
std::string decode_key(const std::string& z85);

}  // namespace cw

#endif  // CW_AUTH_CURVE_KEYS_H_
