// Runs the fixed probe batch (and the task probes) at a checkpoint and
// hands the results to a SnapshotSink.
#ifndef CW_EXAMPLES_TINYGPT_PROBE_RUNNER_H_
#define CW_EXAMPLES_TINYGPT_PROBE_RUNNER_H_

#include <string>
#include <vector>

#include "examples/tinygpt/model.h"
#include "examples/tinygpt/snapshot_sink.h"
#include "examples/tinygpt/training_data.h"

namespace cw {

class ProbeRunner {
 public:
  // `taps` must be residual taps of the model. `half_length` > 0 marks the
  // repeat dataset: it enables the induction task probe (on data.task_ids)
  // and the probe's second-copy loss.
  ProbeRunner(GPT model, const TrainingData& data, std::vector<std::string> taps, int64_t half_length);

  // The once-per-run description the sink gets before any snapshot.
  ProbeDescription describe(const std::string& run, const std::string& dataset) const;

  // Probe pass without gradients; `scalars` (the job's training metrics)
  // are sent along with the probe's own loss.
  void snapshot(uint64_t step, uint64_t tokens_seen, NamedScalars scalars, SnapshotSink& sink);

 private:
  void task_probe(uint64_t step, uint64_t tokens_seen, SnapshotSink& sink);

  GPT model_;
  std::vector<std::string> taps_;
  int64_t half_length_;
  int64_t sequence_length_;
  std::vector<std::string> vocabulary_;
  torch::Tensor probe_tokens_, task_tokens_;
};

// An int64 [rows, sequence_length] tensor holding `ids`.
torch::Tensor to_token_tensor(const std::vector<int64_t>& ids, int64_t sequence_length);

}  // namespace cw

#endif  // CW_EXAMPLES_TINYGPT_PROBE_RUNNER_H_
