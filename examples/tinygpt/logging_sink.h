// A SnapshotSink that only describes what it receives, one line per call,
// to a stream: the job's default until a conceptwatch sink is plugged in.
#ifndef CW_EXAMPLES_TINYGPT_LOGGING_SINK_H_
#define CW_EXAMPLES_TINYGPT_LOGGING_SINK_H_

#include <ostream>

#include "examples/tinygpt/snapshot_sink.h"

namespace cw {

class LoggingSink : public SnapshotSink {
 public:
  explicit LoggingSink(std::ostream& out) : out_(out) {}
  void on_probe_set(const ProbeDescription& probe) override;
  void on_snapshot(const Snapshot& snapshot) override;
  void on_task_probe(const TaskProbeResult& result) override;

 private:
  std::ostream& out_;
};

// Root mean square of a view's entries: a one-number summary for logs.
double rms(const MatrixView& view);

}  // namespace cw

#endif  // CW_EXAMPLES_TINYGPT_LOGGING_SINK_H_
