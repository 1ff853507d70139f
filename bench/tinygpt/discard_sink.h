// A sink that takes every checkpoint and keeps nothing: with it the job pays
// for its probe forward pass and nothing else (bench/tinygpt's mode (b)).
#ifndef CW_BENCH_TINYGPT_DISCARD_SINK_H_
#define CW_BENCH_TINYGPT_DISCARD_SINK_H_

#include "examples/tinygpt/snapshot_sink.h"

namespace cw::bench {

class DiscardSink : public SnapshotSink {
 public:
  void on_probe_set(const ProbeDescription&) override {}
  void on_snapshot(const Snapshot&) override {}
  void on_task_probe(const TaskProbeResult&) override {}
};

}  // namespace cw::bench

#endif  // CW_BENCH_TINYGPT_DISCARD_SINK_H_
