// Forwards to another sink and times what each checkpoint spends inside it
// on the training thread: for ConceptwatchSink that is its publish() calls
// (one per tap, two per task probe), the hooks' whole cost to the job apart
// from the probe forward and the sender thread's share of the cores.
#ifndef CW_BENCH_TINYGPT_TIMED_SINK_H_
#define CW_BENCH_TINYGPT_TIMED_SINK_H_

#include <cstdint>
#include <functional>
#include <map>
#include <vector>

#include "bench/common/thread_cpu.h"
#include "examples/tinygpt/snapshot_sink.h"

namespace cw::bench {

class TimedSink : public SnapshotSink {
 public:
  // `after_probe_set` (may be empty) runs, untimed, once `inner` has the
  // probe set: set-up such as waiting for the daemon's Hello.
  TimedSink(SnapshotSink& inner, std::function<void()> after_probe_set);

  void on_probe_set(const ProbeDescription& probe) override;
  void on_snapshot(const Snapshot& snapshot) override;
  void on_task_probe(const TaskProbeResult& result) override;
  void on_finish() override;

  // Seconds inside `inner` per checkpoint (snapshot and task probes), by step.
  std::vector<double> checkpoint_seconds() const;
  // CPU seconds of this whole process (training, the publisher's sender and
  // ZeroMQ threads) from the probe set to the finish, i.e. over the training
  // loop: unlike wall time, barely moved by other load on the machine.
  double process_cpu_seconds() const { return cpu_at_finish_ - cpu_at_start_; }
  // The same split: the training thread (the one that called on_probe_set)
  // and every other thread (the hooks' sender and ZeroMQ threads).
  ThreadCpuSplit thread_cpu() const { return split_thread_cpu(threads_at_start_, threads_at_finish_, training_thread_); }

 private:
  double cpu_at_start_ = 0, cpu_at_finish_ = 0;
  pid_t training_thread_ = 0;
  std::map<pid_t, ThreadCpu> threads_at_start_, threads_at_finish_;
  SnapshotSink& inner_;
  std::function<void()> after_probe_set_;
  std::map<uint64_t, double> seconds_by_step_;
};

}  // namespace cw::bench

#endif  // CW_BENCH_TINYGPT_TIMED_SINK_H_
