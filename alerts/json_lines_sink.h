// Appends each notification as one JSON object per line (alert_to_json), to
// a file or to stdout; flushed per line so `tail -f` and log shippers see it
// at once.
#ifndef CW_ALERTS_JSON_LINES_SINK_H_
#define CW_ALERTS_JSON_LINES_SINK_H_

#include <cstdio>
#include <string>

#include "alerts/alert_sink.h"

namespace cw {

class JsonLinesSink : public AlertSink {
 public:
  // `path` "-" means stdout. Opens (creating, appending) at once; throws
  // std::runtime_error naming the path and the reason if it cannot.
  explicit JsonLinesSink(std::string path);
  ~JsonLinesSink() override;

  void deliver(const Alert& alert) override;
  std::string describe() const override;

 private:
  std::string path_;
  std::FILE* file_;
};

}  // namespace cw

#endif  // CW_ALERTS_JSON_LINES_SINK_H_
