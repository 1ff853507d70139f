#include "alerts/webhook_sink.h"

#include <httplib.h>

#include <stdexcept>

#include "alerts/alertmanager_payload.h"
#include "alerts/http_url.h"
#include "schema/json_text.h"

namespace cw {

struct WebhookSink::Client {
  explicit Client(const HttpUrl& url) : http(url.host, url.port) {}
  httplib::Client http;
};

WebhookSink::WebhookSink(WebhookOptions options) : options_(std::move(options)) {
  HttpUrl url = parse_http_url(options_.url, "webhook alert sink");
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
