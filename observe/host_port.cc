#include "observe/host_port.h"

#include <stdexcept>

namespace cw {

HostPort split_host_port(const std::string& address, const std::string& setting, bool allow_any_port) {
  const auto bad = [&](const std::string& why) {
    return std::runtime_error(setting + " \"" + address + "\": " + why +
                                 " (write host:port, e.g. \"127.0.0.1:7783\" or \"[::1]:7783\")");
  };
  const auto colon = address.rfind(':');
  if (colon == std::string::npos || colon == 0) throw bad("no host:port");
  HostPort out{address.substr(0, colon), 0};
  if (out.host.front() == '[') {
    if (out.host.size() < 3 || out.host.back() != ']') throw bad("unclosed [ or an empty host");
    out.host = out.host.substr(1, out.host.size() - 2);
  } else if (out.host.find(':') != std::string::npos) {
    throw bad("an IPv6 host needs brackets");
  }
  const std::string port_text = address.substr(colon + 1);
  if (port_text.empty() || port_text.find_first_not_of("0123456789") != std::string::npos || port_text.size() > 5)
    throw bad("the port is not a number");
  out.port = std::stoi(port_text);
  const int lowest = allow_any_port ? 0 : 1;
  if (out.port < lowest || out.port > 65535)
    throw bad(allow_any_port ? "the port is outside 0-65535" : "the port is outside 1-65535");
  return out;
}

}  // namespace cw
