// POSTs each alert as an Alertmanager webhook payload (version "4", one
// alert per payload) to http://host[:port]/path. Anything but a 2xx answer,
// a refused connection or a timeout is a failed delivery.
#ifndef CW_DAEMON_ALERTING_WEBHOOK_SINK_H_
#define CW_DAEMON_ALERTING_WEBHOOK_SINK_H_

#include <chrono>
#include <string>

#include "daemon/alerting/alert_sink.h"

namespace cw {

struct WebhookOptions {
  std::string url;  // http only: put a TLS proxy in front for https
  std::chrono::milliseconds connect_timeout{2000};
  std::chrono::milliseconds read_timeout{5000};  // also bounds the write
  AlertmanagerGroup group;                       // receiver and externalURL
};

class WebhookSink : public AlertSink {
 public:
  // Throws std::invalid_argument on a URL that is not http://host[:port][/path].
  explicit WebhookSink(WebhookOptions options);

  std::string name() const override;
  void deliver(const Alert& alert) override;

 private:
  WebhookOptions options_;
  std::string host_;
  int port_ = 80;
  std::string path_;
};

}  // namespace cw

#endif  // CW_DAEMON_ALERTING_WEBHOOK_SINK_H_
