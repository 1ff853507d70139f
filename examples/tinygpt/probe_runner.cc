#include "examples/tinygpt/probe_runner.h"

#include <algorithm>
#include <stdexcept>

#include "examples/tinygpt/induction_metrics.h"

namespace cw {

namespace {

const char* kInductionTask = "induction";
const char* kInductionMetric =
    "mean over second-copy positions of the correct next token's logit minus the mean logit";

std::vector<uint32_t> as_u32(const torch::Tensor& tokens) {
  auto flat = tokens.reshape({-1}).to(torch::kLong).contiguous();
  const int64_t* p = flat.data_ptr<int64_t>();
  return std::vector<uint32_t>(p, p + flat.numel());
}

// Views keep pointing into `keep`, which the caller holds during the sink call.
MatrixView rows_of(const torch::Tensor& t, std::vector<torch::Tensor>& keep) {
  keep.push_back(t.detach().reshape({-1, t.size(-1)}).to(torch::kFloat32).contiguous());
  const auto& m = keep.back();
  return {m.data_ptr<float>(), uint64_t(m.size(0)), uint32_t(m.size(1))};
}

}  // namespace

torch::Tensor to_token_tensor(const std::vector<int64_t>& ids, int64_t sequence_length) {
  if (sequence_length <= 0 || ids.size() % size_t(sequence_length) != 0) {
    throw std::invalid_argument("to_token_tensor: " + std::to_string(ids.size()) + " ids are not whole sequences of " +
                                std::to_string(sequence_length));
  }
  return torch::tensor(ids, torch::kLong).view({-1, sequence_length});
}

torch::Tensor to_copy_lengths(const std::vector<int64_t>& copy_lengths) {
  return copy_lengths.empty() ? torch::Tensor() : torch::tensor(copy_lengths, torch::kLong);
}

ProbeRunner::ProbeRunner(GPT model, const TrainingData& data, std::vector<std::string> taps)
    : model_(std::move(model)),
      taps_(std::move(taps)),
      sequence_length_(data.sequence_length),
      vocabulary_(data.vocabulary),
      ngrams_(std::vector<uint32_t>(data.probe.tokens.begin(), data.probe.tokens.end()), data.sequence_length,
              model_->config().vocab_size) {
  const auto offered = model_->config().residual_taps();
  for (const auto& tap : taps_) {
    if (std::find(offered.begin(), offered.end(), tap) == offered.end()) {
      throw std::invalid_argument("probe: '" + tap + "' is not a residual-stream tap of this model");
    }
  }
  probe_tokens_ = to_token_tensor(data.probe.tokens, sequence_length_);
  probe_copy_lengths_ = to_copy_lengths(data.probe.copy_lengths);
  if (probe_copy_lengths_.defined() && !data.task.tokens.empty()) {
    task_tokens_ = to_token_tensor(data.task.tokens, sequence_length_);
    task_copy_lengths_ = to_copy_lengths(data.task.copy_lengths);
  }
}

ProbeDescription ProbeRunner::describe(const std::string& run, const std::string& dataset) const {
  ProbeDescription probe;
  probe.run = run;
  probe.dataset = dataset;
  probe.token_ids = as_u32(probe_tokens_);
  probe.sequence_length = uint32_t(sequence_length_);
  probe.vocabulary = vocabulary_;
  for (const auto& tap : taps_) probe.taps.push_back({tap, uint32_t(model_->config().d_model)});
  if (task_tokens_.defined()) {
    probe.tasks.push_back({kInductionTask, kInductionMetric, as_u32(task_tokens_), uint32_t(sequence_length_)});
  }
  return probe;
}

void ProbeRunner::snapshot(uint64_t step, uint64_t tokens_seen, NamedScalars scalars, SnapshotSink& sink) {
  std::vector<torch::Tensor> keep;
  Snapshot snap;
  snap.step = step;
  snap.tokens_seen = tokens_seen;
  {
    torch::NoGradGuard no_grad;
    auto fwd = model_->forward_with_taps(probe_tokens_, {taps_.begin(), taps_.end()});
    for (const auto& tap : taps_) snap.taps[tap] = rows_of(fwd.taps.at(tap), keep);
    auto losses = next_token_losses(fwd.logits, probe_tokens_);
    scalars.emplace_back("probe_loss", losses.mean().item<double>());
    const auto logits = fwd.logits.to(torch::kFloat32).contiguous();
    const PredictionDivergence divergence = ngrams_.divergence(logits.data_ptr<float>());
    scalars.emplace_back("kl_unigram", divergence.kl_unigram);
    scalars.emplace_back("kl_bigram", divergence.kl_bigram);
    if (probe_copy_lengths_.defined()) {
      scalars.emplace_back("probe_second_copy_loss",
                           masked_mean(losses, second_copy_targets(sequence_length_, probe_copy_lengths_)));
    }
  }
  snap.scalars = std::move(scalars);
  sink.on_snapshot(snap);
  if (task_tokens_.defined()) task_probe(step, tokens_seen, sink);
}

// The metric's gradient with respect to each tapped residual stream: the
// tapped tensors are intermediate nodes of the graph, so autograd::grad
// reaches them without touching the parameters' .grad. LayerNorm scales
// are frozen (model.h NormScales: else the attributions cancel out).
void ProbeRunner::task_probe(uint64_t step, uint64_t tokens_seen, SnapshotSink& sink) {
  auto fwd = model_->forward_with_taps(task_tokens_, {taps_.begin(), taps_.end()}, NormScales::kFrozen);
  auto metric = induction_logit_margin(fwd.logits, task_tokens_, task_copy_lengths_);
  std::vector<torch::Tensor> inputs;
  for (const auto& tap : taps_) inputs.push_back(fwd.taps.at(tap));
  auto grads = torch::autograd::grad({metric}, inputs);
  const double value = metric.item<double>();
  for (size_t i = 0; i < taps_.size(); ++i) {
    std::vector<torch::Tensor> keep;
    TaskProbeResult result;
    result.step = step;
    result.tokens_seen = tokens_seen;
    result.task = kInductionTask;
    result.tap = taps_[i];
    result.activations = rows_of(inputs[i], keep);
    result.gradient = rows_of(grads[i], keep);
    result.metric = value;
    sink.on_task_probe(result);
  }
}

}  // namespace cw
