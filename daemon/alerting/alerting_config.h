// Which sinks conceptwatchd sends alerts to, read from the [alerts] part of
// its TOML file, and the AlertDispatcher built from that:
//
//   [alerts]                      # all optional: the delivery defaults
//   queue_capacity = 256          # per sink
//   retry_initial_ms = 500        # back-off doubles per failed attempt ...
//   retry_max_ms = 30000          # ... up to this
//   max_attempts = 8              # then the alert is dropped (and counted)
//   shutdown_deadline_ms = 5000
//
//   [[alerts.sink]]
//   type = "jsonl"                # path = "-" is stdout
//   path = "/var/log/conceptwatch/alerts.jsonl"
//   [[alerts.sink]]
//   type = "zmq"
//   endpoint = "tcp://127.0.0.1:7783"
//   [[alerts.sink]]
//   type = "webhook"
//   url = "http://127.0.0.1:9093/api/v1/alerts"
//   connect_timeout_ms = 2000     # optional, as are read_timeout_ms,
//   receiver = "conceptwatch"     # external_url
//   [[alerts.sink]]
//   type = "exec"
//   command = ["notify-send", "conceptwatch"]
//   timeout_ms = 10000            # optional
//
// Any sink may override queue_capacity, retry_initial_ms, retry_max_ms and
// max_attempts. Unknown keys are errors, so typos do not pass silently.
#ifndef CW_DAEMON_ALERTING_ALERTING_CONFIG_H_
#define CW_DAEMON_ALERTING_ALERTING_CONFIG_H_

#include <toml++/toml.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "daemon/alerting/alert_dispatcher.h"
#include "daemon/alerting/exec_sink.h"
#include "daemon/alerting/webhook_sink.h"

namespace cw {

enum class AlertSinkType { kJsonl, kZmq, kWebhook, kExec };

struct AlertSinkConfig {
  AlertSinkType type = AlertSinkType::kJsonl;
  std::string path;      // jsonl
  std::string endpoint;  // zmq
  WebhookOptions webhook;
  ExecOptions exec;
  DeliveryPolicy delivery;
};

struct AlertingConfig {
  DeliveryPolicy delivery;  // defaults for every sink
  std::vector<AlertSinkConfig> sinks;
  std::chrono::milliseconds shutdown_deadline = AlertDispatcher::kDefaultShutdownDeadline;
};

// Reads root["alerts"] (absent: no sinks). `source` names the file in
// errors. Throws std::runtime_error naming the source, line and bad key.
AlertingConfig alerting_config_from_toml(const toml::table& root, const std::string& source);

// Opens every sink (files, bound sockets) and starts its worker. Throws
// std::runtime_error / std::invalid_argument naming the sink that failed.
std::unique_ptr<AlertDispatcher> build_alert_dispatcher(const AlertingConfig& config);

}  // namespace cw

#endif  // CW_DAEMON_ALERTING_ALERTING_CONFIG_H_
