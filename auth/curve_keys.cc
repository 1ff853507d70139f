#include "auth/curve_keys.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zmq.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace cw {
namespace {

constexpr std::size_t kZ85KeyLength = 40;

// The file's one key: the first line that is neither empty nor a comment.
std::string read_key_text(const std::string& path, const char* what) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot read " + std::string(what) + " " + path + ": " + std::strerror(errno));
  std::string line;
  while (std::getline(in, line)) {
    const auto begin = line.find_first_not_of(" \t\r");
    if (begin == std::string::npos || line[begin] == '#') continue;
    const auto end = line.find_last_not_of(" \t\r");
    const std::string key = line.substr(begin, end - begin + 1);
    if (decode_key(key).empty())
      throw std::runtime_error(std::string(what) + " " + path + " does not hold a Z85 CURVE key (40 characters; make one with `conceptwatch keygen`)");
    return key;
  }
  throw std::runtime_error(std::string(what) + " " + path + " is empty (make keys with `conceptwatch keygen`)");
}

void write_new_file(const std::string& path, const std::string& text, mode_t mode) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
  if (fd < 0) {
    throw std::runtime_error("cannot create " + path + ": " + std::strerror(errno) +
                             (errno == EEXIST ? " (keys are never overwritten: remove it first)" : ""));
  }
  ::fchmod(fd, mode);  // whatever the umask
  const bool written = ::write(fd, text.data(), text.size()) == ssize_t(text.size()) && ::fsync(fd) == 0;
  ::close(fd);
  if (!written) {
    ::unlink(path.c_str());
    throw std::runtime_error("cannot write " + path + ": " + std::strerror(errno));
  }
}

}  // namespace

bool curve_available() { return zmq_has("curve") != 0; }

CurveKeyPair generate_key_pair() {
  char public_key[kZ85KeyLength + 1], secret_key[kZ85KeyLength + 1];
  if (zmq_curve_keypair(public_key, secret_key) != 0)
    throw std::runtime_error(std::string("cannot make a CURVE key pair: ") + zmq_strerror(zmq_errno()) +
                             " (this libzmq lacks CURVE)");
  return {public_key, secret_key};
}

void write_key_pair(const CurveKeyPair& pair, const std::string& base) {
  const std::string secret_path = base + ".secret", public_path = base + ".pub";
  write_new_file(secret_path,
                 "# conceptwatch CURVE secret key: keep it; its public half is " + public_path + "\n" +
                     pair.secret_key + "\n",
                 0600);
  try {
    write_new_file(public_path, "# conceptwatch CURVE public key\n" + pair.public_key + "\n", 0644);
  } catch (...) {
    ::unlink(secret_path.c_str());
    throw;
  }
}

std::string read_public_key(const std::string& path) { return read_key_text(path, "public key"); }

CurveKeyPair read_secret_key(const std::string& path) {
  struct stat info {};
  if (::stat(path.c_str(), &info) == 0 && (info.st_mode & 077) != 0) {
    throw std::runtime_error("secret key " + path + " may be read by others (mode " +
                             std::to_string((info.st_mode >> 6) & 7) + std::to_string((info.st_mode >> 3) & 7) +
                             std::to_string(info.st_mode & 7) + "): chmod 600 " + path);
  }
  CurveKeyPair pair;
  pair.secret_key = read_key_text(path, "secret key");
  char public_key[kZ85KeyLength + 1];
  if (zmq_curve_public(public_key, pair.secret_key.c_str()) != 0)
    throw std::runtime_error("cannot derive the public key of " + path + ": " + zmq_strerror(zmq_errno()));
  pair.public_key = public_key;
  return pair;
}

std::string decode_key(const std::string& z85) {
  if (z85.size() != kZ85KeyLength) return "";
  uint8_t bytes[32];
  if (!zmq_z85_decode(bytes, z85.c_str())) return "";
  return std::string(reinterpret_cast<const char*>(bytes), sizeof bytes);
}

}  // namespace cw
