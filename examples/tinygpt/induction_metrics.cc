#include "examples/tinygpt/induction_metrics.h"

#include <stdexcept>
#include <string>

namespace cw {

namespace {

// [1, T-1] target indices j = 1..T-1 and [B, 1] copy lengths, for broadcasting.
torch::Tensor target_positions(int64_t T) { return torch::arange(1, T, torch::kLong).unsqueeze(0); }
torch::Tensor column(const torch::Tensor& copy_lengths) { return copy_lengths.to(torch::kLong).unsqueeze(1); }

}  // namespace

torch::Tensor next_token_losses(const torch::Tensor& logits, const torch::Tensor& tokens) {
  const int64_t B = logits.size(0), T = logits.size(1), V = logits.size(2);
  auto predicting = logits.slice(1, 0, T - 1).reshape({B * (T - 1), V});
  auto targets = tokens.slice(1, 1, T).reshape({B * (T - 1)});
  return torch::nn::functional::cross_entropy(
             predicting, targets, torch::nn::functional::CrossEntropyFuncOptions().reduction(torch::kNone))
      .view({B, T - 1});
}

torch::Tensor second_copy_targets(int64_t T, const torch::Tensor& copy_lengths) {
  return target_positions(T) >= (T + 1 - column(copy_lengths));
}

torch::Tensor first_copy_targets(int64_t T, const torch::Tensor& copy_lengths) {
  auto j = target_positions(T);
  auto m = column(copy_lengths);
  return (j >= T + 1 - 2 * m) & (j < T - m);
}

double masked_mean(const torch::Tensor& values, const torch::Tensor& mask) {
  const int64_t count = mask.sum().item<int64_t>();
  if (count == 0) throw std::invalid_argument("masked_mean: empty mask");
  return values.masked_select(mask).sum().item<double>() / double(count);
}

torch::Tensor prefix_matching_scores(const torch::Tensor& pattern, const torch::Tensor& copy_lengths) {
  if (pattern.dim() != 4 || pattern.size(0) != copy_lengths.size(0) || pattern.size(2) != pattern.size(3)) {
    throw std::invalid_argument("prefix_matching_scores: pattern must be [B, H, T, T] with one copy length per row");
  }
  const int64_t B = pattern.size(0), H = pattern.size(1), T = pattern.size(2);
  auto queries = torch::arange(T, torch::kLong).unsqueeze(0);  // [1, T]
  auto m = column(copy_lengths);                                // [B, 1]
  auto valid = queries >= T - m;                                // [B, T]
  auto keys = (queries - m + 1).clamp_min(0);                   // [B, T]
  auto weights = pattern.gather(3, keys.view({B, 1, T, 1}).expand({B, H, T, 1})).squeeze(3);  // [B, H, T]
  auto mask = valid.unsqueeze(1).to(weights.scalar_type());
  const std::vector<int64_t> rows_and_queries{0, 2};
  return (weights * mask).sum(rows_and_queries) / mask.sum(rows_and_queries);
}

torch::Tensor induction_logit_margin(const torch::Tensor& logits, const torch::Tensor& tokens,
                                     const torch::Tensor& copy_lengths) {
  const int64_t T = logits.size(1);
  auto predicting = logits.slice(1, 0, T - 1);  // position p predicts target p+1
  auto correct = predicting.gather(2, tokens.slice(1, 1, T).unsqueeze(-1)).squeeze(-1);
  auto margin = correct - predicting.mean(-1);  // [B, T-1]
  auto mask = second_copy_targets(T, copy_lengths).to(margin.scalar_type());
  return (margin * mask).sum() / mask.sum();
}

}  // namespace cw
