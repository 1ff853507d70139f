// Appends one alert per line (alert_to_json) to a file, or to stdout for
// "-". Flushes every line so `tail -f` and log shippers see it at once.
#ifndef CW_DAEMON_ALERTING_JSONL_SINK_H_
#define CW_DAEMON_ALERTING_JSONL_SINK_H_

#include <cstdio>
#include <string>

#include "daemon/alerting/alert_sink.h"

namespace cw {

class JsonlSink : public AlertSink {
 public:
  // Opens (creates) `path` for appending now, so a bad path fails at start-up
  // with std::runtime_error rather than at the first alert.
  explicit JsonlSink(std::string path);
  ~JsonlSink() override;
  JsonlSink(const JsonlSink&) = delete;
  JsonlSink& operator=(const JsonlSink&) = delete;

  std::string name() const override;
  void deliver(const Alert& alert) override;

 private:
  std::string path_;
  std::FILE* file_;
};

}  // namespace cw

#endif  // CW_DAEMON_ALERTING_JSONL_SINK_H_
