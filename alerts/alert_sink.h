// Where notifications go: a JSON-lines file, a ZeroMQ PUB socket, a webhook,
// a command. Each sink only knows how to deliver one alert; queueing,
// retries and isolation from the daemon live in AlertDispatcher.
#ifndef CW_ALERTS_ALERT_SINK_H_
#define CW_ALERTS_ALERT_SINK_H_

#include <string>

#include "alerts/alert.h"

namespace cw {

class AlertSink {
 public:
  virtual ~AlertSink() = default;

  // Delivers one alert, or throws an exception whose what() says why (it is
  // kept as the sink's last error); a throw is retried by the dispatcher.
  // Always called from the sink's one worker thread.
  virtual void deliver(const Alert& alert) = 0;

  // Called from another thread when shutdown's deadline passes while
  // deliver() is still running: make it return soon (close a connection,
  // kill a child). Must be safe to call concurrently with deliver(), and
  // harmless if deliver() has just returned.
  virtual void interrupt() {}

  // A short description for stats and logs ("webhook http://host:9093/").
  virtual std::string describe() const = 0;
};

}  // namespace cw

#endif  // CW_ALERTS_ALERT_SINK_H_
