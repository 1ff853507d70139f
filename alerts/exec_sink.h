// Runs a command per notification: the alert's JSON (alert_to_json) on its
// stdin, the alert's fields in CW_ALERT_* environment variables, its stdout
// sent to the daemon's stderr (stdout may carry JSON lines). A non-zero exit
// or a death by signal is a failure (retried); past the timeout the command's
// process group is killed.
//
// Environment: CW_ALERT_NAME, CW_ALERT_STATUS (firing|resolved),
// CW_ALERT_FINGERPRINT, CW_ALERT_STARTS_AT, CW_ALERT_ENDS_AT (empty while
// firing), CW_ALERT_GENERATOR_URL, CW_ALERT_LABEL_<NAME> per label and
// CW_ALERT_ANNOTATION_<NAME> per annotation (NAME upper-cased, characters
// other than A-Z 0-9 turned into '_'). Inherited CW_ALERT_* are removed.
//
// Label values include run and tap names, which whoever may publish chooses
// (docs/SECURITY.md). They are passed only as environment values, as they
// are: never put into argv or the shell string, so no name runs as a
// command. A script must still treat them as data: quote them
// ("$CW_ALERT_LABEL_RUN"), never eval them or build a command from them.
// The daemon admits only names of valid UTF-8, at most 200 bytes, without
// control characters (no newline) or '/' (schema/run_checks.h); they may
// hold quotes, '$', '`' and ';'.
#ifndef CW_ALERTS_EXEC_SINK_H_
#define CW_ALERTS_EXEC_SINK_H_

#include <chrono>
#include <mutex>
#include <string>
#include <sys/types.h>
#include <vector>

#include "alerts/alert_sink.h"

namespace cw {

struct ExecOptions {
  // argv, run directly without a shell; argv[0] is looked up on PATH when it
  // has no '/'. With shell = true it must be one string, run by /bin/sh -c.
  std::vector<std::string> command;
  bool shell = false;
  std::chrono::milliseconds timeout{10000};
};

class ExecSink : public AlertSink {
 public:
  // Throws std::invalid_argument on an empty command, or a shell command of
  // more than one string.
  explicit ExecSink(ExecOptions options);

  void deliver(const Alert& alert) override;
  void interrupt() override;  // kills a running command
  std::string describe() const override;

 private:
  ExecOptions options_;
  std::mutex mu_;  // guards child_, which interrupt() reads from another thread
  pid_t child_ = 0;
};

// The CW_ALERT_* variables as "NAME=value" strings, for tests and docs.
std::vector<std::string> alert_environment(const Alert& alert);

}  // namespace cw

#endif  // CW_ALERTS_EXEC_SINK_H_
