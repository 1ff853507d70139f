// The seam between the training job and whoever watches it. At every
// checkpoint the job runs a fixed probe batch without gradients and hands
// the residual stream at each tap to a SnapshotSink; for task probes it also
// hands a metric and the metric's gradient with respect to the tap.
//
// Torch-free on purpose: a sink that publishes to conceptwatch (or writes
// files) does not have to include torch. Arrays are row-major float32 views
// owned by the job and valid only during the call; copy what you keep.
#ifndef CW_EXAMPLES_TINYGPT_SNAPSHOT_SINK_H_
#define CW_EXAMPLES_TINYGPT_SNAPSHOT_SINK_H_

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace cw {

// [rows × cols] float32, row-major, contiguous. Row r is token r of the
// probe (or task) sequences laid end to end: sequence r / seq_len, position
// r % seq_len.
struct MatrixView {
  const float* data = nullptr;
  uint64_t rows = 0;
  uint32_t cols = 0;
};

using NamedScalars = std::vector<std::pair<std::string, double>>;

struct TapDescription {
  std::string name;  // e.g. "blocks.1.resid_post"
  uint32_t d_model = 0;
};

// A task probe: fixed sequences, a scalar metric of the model's output on
// them, and the tokens at which the metric is read.
struct TaskDescription {
  std::string name;    // e.g. "induction"
  std::string metric;  // what the metric is, in words
  std::vector<uint32_t> token_ids;  // n_sequences × sequence_length
  uint32_t sequence_length = 0;
};

// Sent once, before the first snapshot. Identical probe token ids at every
// checkpoint are the contract the daemon relies on.
struct ProbeDescription {
  std::string run;                  // the job's name for this run
  std::string dataset;              // "repeat" or "kjv"
  std::vector<uint32_t> token_ids;  // n_sequences × sequence_length
  uint32_t sequence_length = 0;
  std::vector<std::string> vocabulary;  // vocabulary[id] = the token's text
  std::vector<TapDescription> taps;
  std::vector<TaskDescription> tasks;
  NamedScalars facts;  // e.g. the probe text's unigram/bigram entropy
};

struct Snapshot {
  uint64_t step = 0;         // optimizer updates done
  uint64_t tokens_seen = 0;  // training tokens consumed so far
  std::map<std::string, MatrixView> taps;  // tap name -> [probe tokens × d_model]
  NamedScalars scalars;  // train_loss, and per dataset e.g. second_copy_loss, probe_loss
};

struct TaskProbeResult {
  uint64_t step = 0;
  uint64_t tokens_seen = 0;
  std::string task;
  std::string tap;
  MatrixView activations;  // [task tokens × d_model]
  MatrixView gradient;     // d metric / d activations, same shape
  double metric = 0;
};

class SnapshotSink {
 public:
  virtual ~SnapshotSink() = default;
  virtual void on_probe_set(const ProbeDescription& probe) = 0;
  virtual void on_snapshot(const Snapshot& snapshot) = 0;
  virtual void on_task_probe(const TaskProbeResult& result) = 0;
  // After the last snapshot; a sink that sends in the background flushes here.
  virtual void on_finish() {}
};

}  // namespace cw

#endif  // CW_EXAMPLES_TINYGPT_SNAPSHOT_SINK_H_
