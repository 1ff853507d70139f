// Where alerts go: a log file, a ZeroMQ topic, a webhook, a program. A sink
// only knows how to deliver one alert once; queuing, retries and isolation
// from the daemon are AlertDispatcher's job.
#ifndef CW_DAEMON_ALERTING_ALERT_SINK_H_
#define CW_DAEMON_ALERTING_ALERT_SINK_H_

#include <string>

#include "daemon/alerting/alert.h"

namespace cw {

class AlertSink {
 public:
  virtual ~AlertSink() = default;
  // For logs and stats, e.g. "webhook http://127.0.0.1:9093/api/v1/alerts".
  virtual std::string name() const = 0;
  // Delivers one alert or throws (any std::exception) saying why not. Called
  // from one worker thread at a time; may block, but should bound how long.
  virtual void deliver(const Alert& alert) = 0;
};

}  // namespace cw

#endif  // CW_DAEMON_ALERTING_ALERT_SINK_H_
