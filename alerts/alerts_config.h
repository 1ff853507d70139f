// How alerts leave the daemon: the sinks and their queue/retry settings.
// Read from the [alerts] part of conceptwatchd.toml:
//
//   [alerts]
//   receiver = "conceptwatch"       # webhook payload "receiver"
//   external_url = ""               # webhook payload "externalURL", alertmanager generatorURL (the daemon's own URL)
//   shutdown_deadline_ms = 2000     # how long shutdown waits for queued deliveries
//   queue_capacity = 1024           # default for every sink
//   initial_delay_ms = 500          # default retry: first back-off ...
//   max_delay_ms = 30000            # ... doubling up to this ...
//   max_attempts = 8                # ... tries per alert, then drop and count
//
//   [[alerts.sinks]]                # any number, each with its own queue and thread
//   type = "jsonl"                  # "jsonl" | "zmq" | "webhook" | "exec" | "alertmanager"
//   name = "log"                    # optional; for stats and logs
//   # optional per-sink overrides: queue_capacity, initial_delay_ms, max_delay_ms, max_attempts
//   path = "/var/log/conceptwatch/alerts.jsonl"   # jsonl: a file (appended) or "-" for stdout
//   # zmq:     endpoint = "tcp://127.0.0.1:7783"  # PUB, bound; topic frame = alertname
//   # webhook: url = "http://127.0.0.1:9093/hook", connect_timeout_ms = 2000, read_timeout_ms = 5000
//   # exec:    command = ["/usr/local/bin/page", "--team", "ml"], timeout_ms = 10000
//   #          or command = "notify-send \"$CW_ALERT_NAME\"" with shell = true
//   # alertmanager: url = "http://127.0.0.1:9093" (POSTs to <url>/api/v2/alerts),
//   #          repost_interval_ms = 60000, connect_timeout_ms = 2000, read_timeout_ms = 5000
//
// Unknown keys are errors, so a typo does not silently disable a sink.
#ifndef CW_ALERTS_ALERTS_CONFIG_H_
#define CW_ALERTS_ALERTS_CONFIG_H_

#include <chrono>
#include <string>
#include <vector>

#include "alerts/alert_dispatcher.h"
#include "alerts/alertmanager_sink.h"
#include "alerts/exec_sink.h"
#include "alerts/webhook_sink.h"

namespace cw {

enum class SinkType { kJsonLines, kZmqPub, kWebhook, kExec, kAlertmanager };

struct SinkConfig {
  SinkType type = SinkType::kJsonLines;
  SinkOptions options;      // name, queue_capacity, retry
  std::string path;         // jsonl
  std::string endpoint;     // zmq
  WebhookOptions webhook;   // url, timeouts; receiver/external_url come from AlertsConfig
  ExecOptions exec;         // command, shell, timeout
  AlertmanagerOptions alertmanager;  // url, repost interval, timeouts; generator_url from AlertsConfig
};

struct AlertsConfig {
  std::string receiver = "conceptwatch";
  std::string external_url;
  std::chrono::milliseconds shutdown_deadline{2000};
  std::vector<SinkConfig> sinks;  // none: alerts are kept in the AlertBook only
};

// Fills `config` from the [alerts] table of a TOML file / text (absent keys
// keep their values). Throws std::runtime_error naming the source, the key
// and what is wrong.
void load_alerts_config(const std::string& toml_path, AlertsConfig* config);
void parse_alerts_config(const std::string& toml_text, const std::string& source_name, AlertsConfig* config);

}  // namespace cw

#endif  // CW_ALERTS_ALERTS_CONFIG_H_
