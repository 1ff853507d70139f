// Where a recruit's direction was already present: its decoder norm at the
// heads before the newest, fitted from each head's own residual.
#include <algorithm>
#include <torch/utils.h>

#include "crosscoder/recruit_presence.h"

namespace cw {

torch::Tensor older_head_presence(const Crosscoder::Impl& model, const torch::Tensor& direction,
                                  const torch::Tensor& threshold) {
  torch::NoGradGuard no_grad;
  const int64_t T = model.n_snap(), R = direction.size(0), n_tokens = model.n_tokens;
  if (T < 2 || R == 0) return torch::zeros({std::max<int64_t>(T - 1, 0), R});
  // Per older head θ and recruit r, least squares over the probe rows:
  //   a = argmin Σ_b ‖res_b^θ − a f_b dir‖² = Σ_b f_b (res_b^θ · dir) / Σ_b f_b²,
  // f_b the recruit's activation as it will be (it reads the newest head
  // only: h_b = x_b^newest · dir, open above τ). The residual, not the
  // activation: what another latent already decodes at θ is not evidence.
  auto numerator = torch::zeros({T - 1, R}, torch::kFloat64);
  auto denominator = torch::zeros({R}, torch::kFloat64);
  const int64_t chunk = model.chunk_rows(std::max<int64_t>(model.options.n_features, R));
  for (int64_t b = 0; b < n_tokens; b += chunk) {
    const auto x = model.probe_rows(b, std::min(n_tokens, b + chunk));  // [rows, T, d]
    torch::Tensor x_hat;
    model.forward(x, nullptr, &x_hat);
    const auto h = torch::mm(x.select(1, T - 1), direction.t());  // [rows, R]
    const auto open = (h > threshold.unsqueeze(0)) & model.held_out(b, b + h.size(0)).logical_not().unsqueeze(1);
    const auto f = h * open.to(h.scalar_type());
    const auto older_residual = (x - x_hat).slice(1, 0, T - 1);   // [rows, T−1, d]
    const auto projection = torch::matmul(older_residual, direction.t());  // [rows, T−1, R]
    numerator += (projection * f.unsqueeze(1)).sum(0).to(torch::kFloat64);
    denominator += f.pow(2).sum(0).to(torch::kFloat64);
  }
  // [0, 1]: 1 is the newest head's norm. Above it the recruit would decode
  // more at an older head than where it was found, on the newest head's
  // activations: not evidence a least-squares fit over a few rows should
  // be trusted with. Below 0 is "absent".
  const auto scale = numerator / denominator.clamp_min(1e-12).unsqueeze(0);
  return scale.clamp(0.0, 1.0).to(torch::kFloat32);
}

}  // namespace cw
