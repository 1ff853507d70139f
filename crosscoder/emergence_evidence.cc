#include "crosscoder/emergence_evidence.h"

#include <torch/utils.h>

#include <cmath>
#include <functional>
#include <limits>
#include <stdexcept>
#include <string>

#include "crosscoder/crosscoder.h"
#include "crosscoder/crosscoder_impl.h"

namespace cw {
namespace {

// rows(t, b, e): snapshot t's rows [b, e) [R, d], taken `chunk` rows at a
// time (all N at once: the in-memory crosscoder's single pass);
// directions [F, d]; on [N, F] (float 0/1); reference [F] (int64). Returns
// [T, F] float32.
torch::Tensor strength_of(const std::function<torch::Tensor(int64_t, int64_t, int64_t)>& rows, int64_t T,
                          int64_t chunk, const torch::Tensor& directions, const torch::Tensor& on,
                          const torch::Tensor& reference) {
  torch::NoGradGuard no_grad;
  const int64_t F = directions.size(0), N = on.size(0);
  const auto on64 = on.to(torch::kFloat64);
  const auto n_in = on64.sum(0), n_out = static_cast<double>(N) - n_in;
  auto signal = torch::zeros({T, F}, torch::kFloat64), se = torch::zeros({T, F}, torch::kFloat64);
  for (int64_t t = 0; t < T; ++t) {
    torch::Tensor in_sum, in_sq, all_sum, all_sq;
    for (int64_t b = 0; b < N; b += chunk) {
      const int64_t e = std::min(N, b + chunk);
      const auto p = torch::mm(rows(t, b, e), directions.t()).to(torch::kFloat64);  // [R, F]
      const auto on_rows = on64.slice(0, b, e);
      const torch::Tensor sums[] = {(p * on_rows).sum(0), (p * p * on_rows).sum(0), p.sum(0), (p * p).sum(0)};
      torch::Tensor* acc[] = {&in_sum, &in_sq, &all_sum, &all_sq};
      for (int k = 0; k < 4; ++k) {
        if (b == 0) *acc[k] = sums[k];  // assigned, not added to zero: one chunk has the whole-array sum's bits
        else *acc[k] += sums[k];
      }
    }
    const auto mean_in = in_sum / n_in.clamp_min(1), mean_out = (all_sum - in_sum) / n_out.clamp_min(1);
    const auto var_in = (in_sq / n_in.clamp_min(1) - mean_in.pow(2)).clamp_min(0);
    const auto var_out = ((all_sq - in_sq) / n_out.clamp_min(1) - mean_out.pow(2)).clamp_min(0);
    signal[t] = mean_in - mean_out;
    se[t] = (var_in / n_in.clamp_min(1) + var_out / n_out.clamp_min(1)).sqrt();
  }
  const auto at_reference = signal.gather(0, reference.unsqueeze(0)).squeeze(0);  // [F]
  const auto se_reference = se.gather(0, reference.unsqueeze(0)).squeeze(0);
  const auto measurable = (n_in >= kMinEvidenceTokens) & (n_out >= kMinEvidenceTokens) &
                          (at_reference > kMinSignalStandardErrors * se_reference) & (at_reference > 0);
  auto strength = signal / at_reference.unsqueeze(0);
  strength = torch::where(measurable.unsqueeze(0).expand({T, F}), strength,
                          torch::full_like(strength, std::numeric_limits<double>::quiet_NaN()));
  return strength.to(torch::kFloat32).contiguous();
}

std::vector<float> to_vector(const torch::Tensor& t) {
  return std::vector<float>(t.data_ptr<float>(), t.data_ptr<float>() + t.numel());
}

}  // namespace

std::vector<float> activation_strength(const ActivationStrengthInput& in) {
  const int64_t T = static_cast<int64_t>(in.activations.size());
  if (T == 0 || in.n_tokens <= 0 || in.d_model <= 0 || in.n_features <= 0 || !in.directions || !in.on_tokens)
    throw std::invalid_argument("activation_strength: needs activations, directions and on_tokens of positive size");
  if (static_cast<int64_t>(in.reference.size()) != in.n_features)
    throw std::invalid_argument("activation_strength: one reference snapshot per feature");
  for (int64_t r : in.reference)
    if (r < 0 || r >= T)
      throw std::invalid_argument("activation_strength: reference snapshot " + std::to_string(r) + " is not one of the " +
                                  std::to_string(T) + " given");
  const auto rows = [&](int64_t t, int64_t b, int64_t e) {
    return torch::from_blob(const_cast<float*>(in.activations[size_t(t)]), {in.n_tokens, in.d_model}, torch::kFloat32)
        .slice(0, b, e);
  };
  const auto directions =
      torch::from_blob(const_cast<float*>(in.directions), {in.n_features, in.d_model}, torch::kFloat32);
  const auto on = torch::from_blob(const_cast<uint8_t*>(in.on_tokens), {in.n_tokens, in.n_features}, torch::kUInt8);
  const auto reference = torch::tensor(in.reference, torch::kInt64);
  return to_vector(strength_of(rows, T, in.n_tokens, directions, on, reference));
}

std::vector<float> Crosscoder::activation_strength() const {
  const auto& m = *impl_;
  const int64_t T = m.n_snap(), F = m.options.n_features, N = m.n_tokens;
  if (T == 0) throw std::logic_error("crosscoder: activation_strength() needs a snapshot");
  torch::NoGradGuard no_grad;
  const auto norms = decoder_norms(m.params);     // [T, F]
  const auto reference = norms.argmax(0);          // [F]: normalised norm 1 there
  const auto features = torch::arange(F, torch::kInt64);
  const auto w = m.params.w_dec.index({reference, features});  // [F, d]
  const auto directions = (w / w.norm(2, {1}, true).clamp_min(1e-12)).contiguous();
  // R_i: the tokens feature i fires on at its reference snapshot.
  auto on = torch::zeros({N, F}, torch::kUInt8);
  const int64_t chunk = m.chunk_rows(F);
  const auto pick = reference.view({1, 1, F});
  for (int64_t b = 0; b < N; b += chunk) {
    const int64_t e = std::min(N, b + chunk);
    torch::Tensor f;
    m.forward(m.probe_rows(b, e), &f, nullptr);                          // [R, T, F]
    on.slice(0, b, e).copy_((f.gather(1, pick.expand({e - b, 1, F})).squeeze(1) > 0).to(torch::kUInt8));
  }
    // Held in memory: every row of a snapshot at once, as always; streamed:
  // in chunks.
  const auto rows = [&](int64_t t, int64_t b, int64_t e) { return m.rows().snapshot_range(t, b, e); };
  return to_vector(strength_of(rows, T, m.streamed ? chunk : N, directions, on, reference));
}

}  // namespace cw
