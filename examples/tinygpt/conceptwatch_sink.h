// Publishes tinygpt's checkpoints to conceptwatchd through the hooks'
// Publisher: probe activations per tap, and for task probes the task
// activations and the metric's gradient. Torch-free; never blocks training.
#ifndef CW_EXAMPLES_TINYGPT_CONCEPTWATCH_SINK_H_
#define CW_EXAMPLES_TINYGPT_CONCEPTWATCH_SINK_H_

#include <memory>
#include <ostream>
#include <string>

#include "examples/tinygpt/snapshot_sink.h"
#include "hooks/publisher.h"

namespace cw {

class ConceptwatchSink : public SnapshotSink {
 public:
  ConceptwatchSink(PublisherOptions options, std::ostream* log);
  void on_probe_set(const ProbeDescription& probe) override;
  void on_snapshot(const Snapshot& snapshot) override;
  void on_task_probe(const TaskProbeResult& result) override;
  void on_finish() override;  // waits (bounded) for the daemon, prints the publisher's stats

  PublisherStats stats() const;

 private:
  PublisherOptions options_;
  std::ostream* log_;
  std::unique_ptr<Publisher> publisher_;
};

}  // namespace cw

#endif  // CW_EXAMPLES_TINYGPT_CONCEPTWATCH_SINK_H_
