// POSTs each notification to an HTTP endpoint as a Prometheus Alertmanager
// webhook payload (version "4", one alert per request), so receivers built
// for Alertmanager work unchanged. Any answer other than 2xx is a failure.
#ifndef CW_ALERTS_WEBHOOK_SINK_H_
#define CW_ALERTS_WEBHOOK_SINK_H_

#include <chrono>
#include <memory>
#include <string>

#include "alerts/alert_sink.h"

namespace cw {

struct WebhookOptions {
  std::string url;  // http://host[:port][/path]; https is not supported
  std::chrono::milliseconds connect_timeout{2000};
  std::chrono::milliseconds read_timeout{5000};  // also bounds writing the body
  std::string receiver = "conceptwatch";         // the payload's "receiver"
  std::string external_url;                      // the payload's "externalURL"
};

class WebhookSink : public AlertSink {
 public:
  // Throws std::invalid_argument on a URL it cannot use.
  explicit WebhookSink(WebhookOptions options);
  ~WebhookSink() override;

  void deliver(const Alert& alert) override;
  void interrupt() override;  // closes an open connection
  std::string describe() const override;

 private:
  struct Client;
  WebhookOptions options_;
  std::string path_;
  std::unique_ptr<Client> client_;
};

}  // namespace cw

#endif  // CW_ALERTS_WEBHOOK_SINK_H_
