#include "daemon/alerting/webhook_sink.h"

#include <httplib.h>

#include <stdexcept>
#include <utility>

namespace cw {

WebhookSink::WebhookSink(WebhookOptions options) : options_(std::move(options)) {
  const std::string& url = options_.url;
  auto bad = [&url](const std::string& why) {
    return std::invalid_argument("webhook url \"" + url + "\": " + why + " (want http://host[:port][/path])");
  };
  const std::string scheme = "http://";
  if (url.compare(0, scheme.size(), scheme) != 0) throw bad("only http:// is supported");
  size_t host_begin = scheme.size();
  size_t path_begin = url.find('/', host_begin);
  if (path_begin == std::string::npos) path_begin = url.size();
  std::string authority = url.substr(host_begin, path_begin - host_begin);
  path_ = path_begin < url.size() ? url.substr(path_begin) : "/";
  size_t colon = authority.rfind(':');
  host_ = authority.substr(0, colon);
  if (colon != std::string::npos) {
    std::string port = authority.substr(colon + 1);
    if (port.empty() || port.size() > 5 || port.find_first_not_of("0123456789") != std::string::npos)
      throw bad("bad port \"" + port + "\"");
    port_ = std::stoi(port);
    if (port_ < 1 || port_ > 65535) throw bad("port out of range");
  }
  if (host_.empty() || host_.find_first_of("[]@") != std::string::npos) throw bad("bad host \"" + host_ + "\"");
}

std::string WebhookSink::name() const { return "webhook " + options_.url; }

void WebhookSink::deliver(const Alert& alert) {
  httplib::Client client(host_, port_);
  client.set_connection_timeout(options_.connect_timeout);
  client.set_read_timeout(options_.read_timeout);
  client.set_write_timeout(options_.read_timeout);
  std::string body = alertmanager_payload({alert}, options_.group).dump();
  auto result = client.Post(path_, body, "application/json");
  if (!result) throw std::runtime_error("POST " + options_.url + ": " + httplib::to_string(result.error()));
  if (result->status < 200 || result->status > 299)
    throw std::runtime_error("POST " + options_.url + ": HTTP " + std::to_string(result->status));
}

}  // namespace cw
