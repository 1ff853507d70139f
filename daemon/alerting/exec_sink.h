// Runs a program per alert: argv as configured (no shell), the alert_to_json
// record on stdin, and CW_ALERT_NAME, CW_ALERT_STATUS, CW_ALERT_RUN,
// CW_ALERT_SEVERITY in its environment. A non-zero exit, a failure to start
// or running past the timeout (the process group is then killed) is a
// failed delivery.
#ifndef CW_DAEMON_ALERTING_EXEC_SINK_H_
#define CW_DAEMON_ALERTING_EXEC_SINK_H_

#include <chrono>
#include <string>
#include <vector>

#include "daemon/alerting/alert_sink.h"

namespace cw {

struct ExecOptions {
  std::vector<std::string> argv;  // argv[0] is looked up on PATH
  std::chrono::milliseconds timeout{10000};
};

class ExecSink : public AlertSink {
 public:
  // Throws std::invalid_argument on an empty argv.
  explicit ExecSink(ExecOptions options);

  std::string name() const override;
  void deliver(const Alert& alert) override;

 private:
  ExecOptions options_;
};

}  // namespace cw

#endif  // CW_DAEMON_ALERTING_EXEC_SINK_H_
