#include "alerts/http_url.h"

#include <stdexcept>

namespace cw {

HttpUrl parse_http_url(const std::string& url, const std::string& who) {
  const std::string scheme = "http://";
  auto bad = [&](const std::string& why) {
    return std::invalid_argument(who + ": bad url \"" + url + "\": " + why);
  };
  if (url.compare(0, scheme.size(), scheme) != 0) throw bad("must start with http:// (https is not supported)");
  HttpUrl parsed;
  std::string rest = url.substr(scheme.size());
  size_t slash = rest.find('/');
  std::string authority = rest.substr(0, slash);
  if (slash != std::string::npos) parsed.path = rest.substr(slash);
  size_t colon = authority.rfind(':');
  if (colon != std::string::npos && authority.find(']', colon) == std::string::npos) {
    std::string port = authority.substr(colon + 1);
    authority.resize(colon);
    try {
      size_t used = 0;
      parsed.port = std::stoi(port, &used);
      if (used != port.size() || parsed.port < 1 || parsed.port > 65535) throw bad("port out of range");
    } catch (const std::logic_error&) {
      throw bad("port \"" + port + "\" is not a number from 1 to 65535");
    }
  }
  if (authority.size() > 1 && authority.front() == '[' && authority.back() == ']')
    authority = authority.substr(1, authority.size() - 2);
  if (authority.empty()) throw bad("no host");
  parsed.host = authority;
  return parsed;
}

}  // namespace cw
