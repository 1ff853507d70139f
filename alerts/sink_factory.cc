#include "alerts/sink_factory.h"

#include "alerts/alertmanager_sink.h"
#include "alerts/exec_sink.h"
#include "alerts/json_lines_sink.h"
#include "alerts/webhook_sink.h"
#include "alerts/zmq_pub_sink.h"

namespace cw {

std::unique_ptr<AlertSink> make_alert_sink(const SinkConfig& sink, const AlertsConfig& config) {
  switch (sink.type) {
    case SinkType::kJsonLines:
      return std::make_unique<JsonLinesSink>(sink.path);
    case SinkType::kZmqPub:
      return std::make_unique<ZmqPubSink>(sink.endpoint);
    case SinkType::kWebhook: {
      WebhookOptions options = sink.webhook;
      options.receiver = config.receiver;
      options.external_url = config.external_url;
      return std::make_unique<WebhookSink>(options);
    }
    case SinkType::kExec:
      return std::make_unique<ExecSink>(sink.exec);
    case SinkType::kAlertmanager: {
      AlertmanagerOptions options = sink.alertmanager;
      options.generator_url = config.external_url;
      return std::make_unique<AlertmanagerSink>(options);
    }
  }
  throw std::invalid_argument("unknown alert sink type");
}

std::unique_ptr<AlertDispatcher> make_alert_dispatcher(const AlertsConfig& config) {
  auto dispatcher = std::make_unique<AlertDispatcher>();
  for (const SinkConfig& sink : config.sinks) dispatcher->add_sink(make_alert_sink(sink, config), sink.options);
  return dispatcher;
}

}  // namespace cw
