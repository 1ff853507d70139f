// What the job measures on repeated-sequence batches: losses per copy, the
// in-context-learning score, each head's prefix-matching score (the
// induction-head signature) and a task metric for attribution. Every row
// may have its own copy length m (see repeat_dataset.h); `copy_lengths` is
// an int64 [B] tensor of them.
#ifndef CW_EXAMPLES_TINYGPT_INDUCTION_METRICS_H_
#define CW_EXAMPLES_TINYGPT_INDUCTION_METRICS_H_

#include <torch/torch.h>

#include <cstdint>

namespace cw {

// Cross-entropy of each next-token prediction: logits [B, T, V] and tokens
// [B, T] give [B, T-1], column j-1 holding the loss of predicting token j.
torch::Tensor next_token_losses(const torch::Tensor& logits, const torch::Tensor& tokens);

// [B, T-1] masks over targets j (column j-1) of the copy ranges of
// copy_ranges(): second copy j in [T-m+1, T), first copy [T-2m+1, T-m).
torch::Tensor second_copy_targets(int64_t sequence_length, const torch::Tensor& copy_lengths);
torch::Tensor first_copy_targets(int64_t sequence_length, const torch::Tensor& copy_lengths);

// Mean of `values` where `mask` is true. Throws if the mask is empty.
double masked_mean(const torch::Tensor& values, const torch::Tensor& mask);

// Per head: the mean attention weight from each query i of the second copy
// (i in [T-m, T)) to key i - m + 1, the token that followed i's earlier
// occurrence. pattern: [B, H, T, T] softmax weights. Returns [H]. Uniform
// causal attention scores ≈ 1/(1.5 m) for m = T/2; an induction head ≈ 1.
torch::Tensor prefix_matching_scores(const torch::Tensor& pattern, const torch::Tensor& copy_lengths);

// The induction task metric, differentiable: over second-copy targets, the
// correct token's logit minus the mean logit at the predicting position,
// averaged. ≈ 0 at init, large once induction works.
torch::Tensor induction_logit_margin(const torch::Tensor& logits, const torch::Tensor& tokens,
                                     const torch::Tensor& copy_lengths);

}  // namespace cw

#endif  // CW_EXAMPLES_TINYGPT_INDUCTION_METRICS_H_
