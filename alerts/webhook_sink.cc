#include "alerts/webhook_sink.h"

#include <httplib.h>

#include <stdexcept>

#include "alerts/alertmanager_payload.h"
#include "schema/json_text.h"

namespace cw {

namespace {

struct ParsedUrl {
  std::string host;
  int port = 80;
  std::string path = "/";
};

ParsedUrl parse_http_url(const std::string& url) {
  const std::string scheme = "http://";
  auto bad = [&url](const std::string& why) {
    return std::invalid_argument("webhook alert sink: bad url \"" + url + "\": " + why);
  };
  if (url.compare(0, scheme.size(), scheme) != 0) throw bad("must start with http:// (https is not supported)");
  ParsedUrl parsed;
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

}  // namespace

struct WebhookSink::Client {
  explicit Client(const ParsedUrl& url) : http(url.host, url.port) {}
  httplib::Client http;
};

WebhookSink::WebhookSink(WebhookOptions options) : options_(std::move(options)) {
  ParsedUrl url = parse_http_url(options_.url);
  path_ = url.path;
  client_ = std::make_unique<Client>(url);
  client_->http.set_connection_timeout(options_.connect_timeout);
  client_->http.set_read_timeout(options_.read_timeout);
  client_->http.set_write_timeout(options_.read_timeout);
  client_->http.set_keep_alive(false);
}

WebhookSink::~WebhookSink() = default;

void WebhookSink::deliver(const Alert& alert) {
  std::string body = json_text(alertmanager_payload({alert}, options_.receiver, options_.external_url));
  httplib::Result result = client_->http.Post(path_.c_str(), body, "application/json");
  if (!result)
    throw std::runtime_error("POST " + options_.url + ": " + httplib::to_string(result.error()));
  if (result->status < 200 || result->status >= 300)
    throw std::runtime_error("POST " + options_.url + ": HTTP " + std::to_string(result->status) + " " +
                             result->body.substr(0, 200));
}

void WebhookSink::interrupt() { client_->http.stop(); }

std::string WebhookSink::describe() const { return "webhook " + options_.url; }

}  // namespace cw
