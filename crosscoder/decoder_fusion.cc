#include "crosscoder/decoder_fusion.h"

#include <vector>

#include "crosscoder/head_group.h"

namespace cw {

torch::Tensor decoder_fusion_loss(const torch::Tensor& w_dec, double coefficient) {
  const int64_t T = w_dec.size(0);
  if (coefficient == 0 || T < 2) return torch::zeros({}, w_dec.options());
  const auto diff = w_dec.slice(0, 1) - w_dec.slice(0, 0, -1);  // [T−1, F, d]
  return (coefficient / double(T)) * diff.norm(2, {2}).sum();
}

namespace {

// Σ ‖Δ‖ over latents, and Δ/‖Δ‖ (0 where Δ = 0): the direction the
// penalty's gradient pushes W_D^{θ+1} away from (and W_D^θ towards).
double unit_differences(const torch::Tensor& diff, torch::Tensor* unit) {
  const auto norms = diff.norm(2, {1}, true);  // [F, 1]
  *unit = diff / norms.clamp_min(1e-30);
  return norms.sum().item<double>();
}

}  // namespace

double add_decoder_fusion(const torch::Tensor& w_dec, double coefficient, int64_t total_heads, HeadGroup* group,
                          torch::Tensor& grad_w_dec) {
  if (coefficient == 0 || total_heads < 2) return 0;
  const int64_t T = w_dec.size(0);
  const double scale = coefficient / double(total_heads);
  // Δ across this block's upper and lower boundary, summed over the group:
  // slot k holds W_D^{first of rank k+1} − W_D^{last of rank k}.
  torch::Tensor boundary;
  const int world = group ? group->world_size() : 1, rank = group ? group->rank() : 0;
  if (world > 1) {
    boundary = torch::zeros({world - 1, w_dec.size(1), w_dec.size(2)}, w_dec.options());
    if (rank > 0) boundary[rank - 1].add_(w_dec[0]);
    if (rank < world - 1) boundary[rank].sub_(w_dec[T - 1]);
    group->sum(boundary);
  }
  // unit[k] is the direction of the difference into head k of this block
  // (between head k − 1 and head k); unit[T] the one out of its last head.
  std::vector<torch::Tensor> unit(size_t(T + 1));
  double penalty = 0;
  if (rank > 0) penalty += unit_differences(boundary[rank - 1], &unit[0]);
  for (int64_t t = 1; t < T; ++t) penalty += unit_differences(w_dec[t] - w_dec[t - 1], &unit[size_t(t)]);
  if (world > 1 && rank < world - 1) unit_differences(boundary[rank], &unit[size_t(T)]);
  for (int64_t t = 0; t < T; ++t) {
    auto g = grad_w_dec[t];
    if (unit[size_t(t)].defined()) g.add_(unit[size_t(t)], scale);
    if (unit[size_t(t + 1)].defined()) g.sub_(unit[size_t(t + 1)], scale);
  }
  return penalty * scale;
}

}  // namespace cw
