// What the job measures on repeated-sequence batches: losses per copy, the
// in-context-learning score, each head's prefix-matching score (the
// induction-head signature) and a task metric for attribution.
#ifndef CW_EXAMPLES_TINYGPT_INDUCTION_METRICS_H_
#define CW_EXAMPLES_TINYGPT_INDUCTION_METRICS_H_

#include <torch/torch.h>

#include <cstdint>

namespace cw {

// Cross-entropy of each next-token prediction: logits [B, T, V] and tokens
// [B, T] give [B, T-1], column j-1 holding the loss of predicting token j.
torch::Tensor next_token_losses(const torch::Tensor& logits, const torch::Tensor& tokens);

// Mean of next_token_losses over target positions j in [begin, end).
double mean_loss_over_targets(const torch::Tensor& losses, int64_t begin, int64_t end);

// Per head: the mean attention weight from query i of the second copy
// (i in [n, 2n)) to key i - n + 1, the token that followed i's earlier
// occurrence. pattern: [B, H, 2n, 2n] (softmax weights). Returns [H].
// Uniform causal attention scores ≈ 1/(1.5 n); a trained induction head ≈ 1.
torch::Tensor prefix_matching_scores(const torch::Tensor& pattern, int64_t half_length);

// The induction task metric, differentiable: over second-copy target
// positions j in [n+1, 2n), the correct token's logit minus the mean logit
// at the predicting position, averaged. ≈ 0 at init, large once induction works.
torch::Tensor induction_logit_margin(const torch::Tensor& logits, const torch::Tensor& tokens, int64_t half_length);

}  // namespace cw

#endif  // CW_EXAMPLES_TINYGPT_INDUCTION_METRICS_H_
