#include "examples/tinygpt/induction_metrics.h"

#include <stdexcept>
#include <string>

namespace cw {

torch::Tensor next_token_losses(const torch::Tensor& logits, const torch::Tensor& tokens) {
  const int64_t B = logits.size(0), T = logits.size(1), V = logits.size(2);
  auto predicting = logits.slice(1, 0, T - 1).reshape({B * (T - 1), V});
  auto targets = tokens.slice(1, 1, T).reshape({B * (T - 1)});
  return torch::nn::functional::cross_entropy(
             predicting, targets, torch::nn::functional::CrossEntropyFuncOptions().reduction(torch::kNone))
      .view({B, T - 1});
}

double mean_loss_over_targets(const torch::Tensor& losses, int64_t begin, int64_t end) {
  if (begin < 1 || end <= begin || end - 1 > losses.size(1)) {
    throw std::invalid_argument("mean_loss_over_targets: bad target range [" + std::to_string(begin) + ", " +
                                std::to_string(end) + ")");
  }
  return losses.slice(1, begin - 1, end - 1).mean().item<double>();
}

torch::Tensor prefix_matching_scores(const torch::Tensor& pattern, int64_t half_length) {
  const int64_t n = half_length;
  if (pattern.dim() != 4 || pattern.size(2) < 2 * n || pattern.size(3) < 2 * n) {
    throw std::invalid_argument("prefix_matching_scores: pattern must be [B, H, >=2n, >=2n] for n = " +
                                std::to_string(n));
  }
  // Query i in [n, 2n) attends to key i - n + 1: the diagonal at offset
  // -(n-1) of the [query, key] block restricted to queries n..2n-1.
  auto queries = pattern.slice(2, n, 2 * n);                         // [B, H, n, T]
  auto on_target = queries.diagonal(/*offset=*/1, /*dim1=*/2, /*dim2=*/3);  // key q+1 for row q
  return on_target.slice(-1, 0, n).mean(torch::IntArrayRef{0, 2});
}

torch::Tensor induction_logit_margin(const torch::Tensor& logits, const torch::Tensor& tokens, int64_t half_length) {
  const int64_t n = half_length;
  auto predicting = logits.slice(1, n, 2 * n - 1);  // positions predicting targets n+1 .. 2n-1
  auto targets = tokens.slice(1, n + 1, 2 * n);
  auto correct = predicting.gather(2, targets.unsqueeze(-1)).squeeze(-1);
  return (correct - predicting.mean(-1)).mean();
}

}  // namespace cw
