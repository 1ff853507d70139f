// Runs the fixed probe batch (and the task probes) at a checkpoint and
// hands the results to a SnapshotSink.
#ifndef CW_EXAMPLES_TINYGPT_PROBE_RUNNER_H_
#define CW_EXAMPLES_TINYGPT_PROBE_RUNNER_H_

#include <string>
#include <vector>

#include "examples/tinygpt/model.h"
#include "examples/tinygpt/snapshot_sink.h"
#include "examples/tinygpt/training_data.h"
#include "hooks/prediction_divergence.h"

namespace cw {

class ProbeRunner {
 public:
  // `taps` must be residual taps of the model. Copy lengths in data.probe
  // mark the repeat dataset: they enable the probe's second-copy loss and,
  // when data.task has rows, the induction task probe.
  ProbeRunner(GPT model, const TrainingData& data, std::vector<std::string> taps);

  // The once-per-run description the sink gets before any snapshot.
  ProbeDescription describe(const std::string& run, const std::string& dataset) const;

  // Probe pass without gradients; `scalars` (the job's training metrics)
  // are sent along with the probe's own loss and its predictions' KL from
  // the probe's unigram and bigram statistics ("kl_unigram", "kl_bigram").
  void snapshot(uint64_t step, uint64_t tokens_seen, NamedScalars scalars, SnapshotSink& sink);

 private:
  void task_probe(uint64_t step, uint64_t tokens_seen, SnapshotSink& sink);

  GPT model_;
  std::vector<std::string> taps_;
  int64_t sequence_length_;
  std::vector<std::string> vocabulary_;
  torch::Tensor probe_tokens_, task_tokens_;
  torch::Tensor probe_copy_lengths_, task_copy_lengths_;  // undefined for kjv
  NgramReference ngrams_;
};

// An int64 [rows, sequence_length] tensor holding `ids`.
torch::Tensor to_token_tensor(const std::vector<int64_t>& ids, int64_t sequence_length);
// An int64 [rows] tensor of copy lengths; undefined when there are none.
torch::Tensor to_copy_lengths(const std::vector<int64_t>& copy_lengths);

}  // namespace cw

#endif  // CW_EXAMPLES_TINYGPT_PROBE_RUNNER_H_
