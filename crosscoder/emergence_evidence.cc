#include "crosscoder/emergence_evidence.h"

#include <torch/utils.h>

#include <cmath>
#include <functional>
#include <limits>
#include <stdexcept>
#include <string>

#include "crosscoder/crosscoder.h"
#include "crosscoder/crosscoder_impl.h"
#include "crosscoder/latent_levels.h"

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

// [F] int64: the strongest head of each feature's latest era, the heads
// whose decoder direction agrees with its newest head's (|cos| >=
// kSameDirectionCosine); its strongest head overall where the newest head
// is not present (normalised norm below kLatentOff) or agrees with it.
torch::Tensor latest_era_head(const torch::Tensor& w_dec, const torch::Tensor& norms) {
  const int64_t T = norms.size(0);
  const auto newest = w_dec[T - 1];                                                 // [F, d]
  const auto dots = (w_dec * newest.unsqueeze(0)).sum(2);                           // [T, F]
  const auto cosine = dots / (norms * norms[T - 1].unsqueeze(0)).clamp_min(1e-12);
  const auto present = norms[T - 1] >= kLatentOff * std::get<0>(norms.max(0));
  const auto in_era = (cosine.abs() >= kSameDirectionCosine) & present.unsqueeze(0);
  const auto era_head = (norms * in_era.to(norms.dtype())).argmax(0);
  return torch::where(present, era_head, norms.argmax(0));
}

// Where a feature fires on fewer than kMinEvidenceTokens probe tokens at its
// reference head, R_i becomes the kMinEvidenceTokens tokens whose rows
// project most on its direction there. Choosing them by that projection
// favours the reference head (its noise is selected too), so the strength
// elsewhere reads low rather than high: the check errs towards keeping an
// emergence, as the rotation case does.
void take_top_projecting_where_rare(const std::function<torch::Tensor(int64_t, int64_t, int64_t)>& rows,
                                    int64_t chunk, const torch::Tensor& directions, const torch::Tensor& reference,
                                    torch::Tensor* on) {
  const int64_t N = on->size(0);
  if (N < 2 * kMinEvidenceTokens) return;  // too few tokens for an inside and an outside
  const auto rare = on->sum(0) < kMinEvidenceTokens;  // [F], on the host, as `on`
  const auto reference_host = reference.cpu();
  const auto heads = std::get<0>(torch::_unique(reference_host.masked_select(rare)));
  for (int64_t i = 0; i < heads.size(0); ++i) {
    const int64_t t = heads[i].item<int64_t>();
    const auto which = (rare & (reference_host == t)).nonzero().squeeze(1);  // [k] features
    const auto u = directions.index_select(0, which.to(directions.device()));  // [k, d]
    auto projection = torch::empty({N, which.size(0)}, torch::kFloat32);
    for (int64_t b = 0; b < N; b += chunk) {
      const int64_t e = std::min(N, b + chunk);
      projection.slice(0, b, e).copy_(torch::mm(rows(t, b, e), u.t()));  // to the host
    }
    const auto top = std::get<1>(projection.topk(kMinEvidenceTokens, 0));  // [kMin, k]
    auto mask = torch::zeros({N, which.size(0)}, torch::kUInt8);
    mask.scatter_(0, top, 1);
    on->index_copy_(1, which, mask);
  }
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
  if (!in.top_projecting_where_rare) return to_vector(strength_of(rows, T, in.n_tokens, directions, on, reference));
  auto own = on.clone();
  take_top_projecting_where_rare(rows, in.n_tokens, directions, reference, &own);
  return to_vector(strength_of(rows, T, in.n_tokens, directions, own, reference));
}

std::vector<int64_t> latest_era_heads(const float* w_dec, int64_t T, int64_t F, int64_t d) {
  if (!w_dec || T <= 0 || F <= 0 || d <= 0)
    throw std::invalid_argument("latest_era_heads: needs decoder rows of positive size");
  torch::NoGradGuard no_grad;
  const auto w = torch::from_blob(const_cast<float*>(w_dec), {T, F, d}, torch::kFloat32);
  const auto heads = latest_era_head(w, w.norm(2, {2}));
  return std::vector<int64_t>(heads.data_ptr<int64_t>(), heads.data_ptr<int64_t>() + F);
}

std::vector<float> Crosscoder::activation_strength() const {
  const auto& m = *impl_;
  const int64_t T = m.n_snap(), F = m.options.n_features, N = m.n_tokens;
  if (T == 0) throw std::logic_error("crosscoder: activation_strength() needs a snapshot");
  torch::NoGradGuard no_grad;
  const auto norms = decoder_norms(m.params);      // [T, F]
  const auto strongest = norms.argmax(0);           // [F]: normalised norm 1 there
  // Rare-feature evidence off: no feature has another era to be measured in.
  const auto latest = m.options.rare_feature_evidence ? latest_era_head(m.params.w_dec, norms) : strongest;
  const auto features = torch::arange(F, torch::kInt64);
  // R_i: the tokens feature i fires on at its strongest head and, for the
  // few features whose newest era is another direction, at that era's
  // strongest head ([N, k], not a second [N, F]), in one pass.
  const auto others = (latest != strongest).nonzero().squeeze(1);  // [k] features
  const auto others_head = latest.index_select(0, others);
  auto on = torch::zeros({N, F}, torch::kUInt8), on_others = torch::zeros({N, others.size(0)}, torch::kUInt8);
  const int64_t chunk = m.chunk_rows(F);
  for (int64_t b = 0; b < N; b += chunk) {
    const int64_t e = std::min(N, b + chunk);
    torch::Tensor f;
    m.forward(m.probe_rows(b, e), &f, nullptr);  // [R, T, F]
    const auto pick = strongest.view({1, 1, F}).expand({e - b, 1, F});
    on.slice(0, b, e).copy_((f.gather(1, pick).squeeze(1) > 0).to(torch::kUInt8));
    if (others.size(0) == 0) continue;
    const auto pick_others = others_head.view({1, 1, -1}).expand({e - b, 1, others.size(0)});
    on_others.slice(0, b, e).copy_((f.index_select(2, others).gather(1, pick_others).squeeze(1) > 0).to(torch::kUInt8));
  }
  // A rare feature (too few firing tokens to measure at its strongest head)
  // that is still present in another direction is measured as it is now.
  auto reference = strongest.clone();
  if (others.size(0) > 0) {
    const auto others_host = others.cpu();
    const auto switching = (on.index_select(1, others_host).sum(0) < kMinEvidenceTokens);  // [k]
    const auto which = others_host.masked_select(switching);
    on.index_copy_(1, which, on_others.index_select(1, switching.nonzero().squeeze(1)));
    reference.index_copy_(0, which.to(reference.device()), latest.index_select(0, which.to(latest.device())));
  }
  const auto w = m.params.w_dec.index({reference, features});  // [F, d]
  const auto directions = (w / w.norm(2, {1}, true).clamp_min(1e-12)).contiguous();
  // Held in memory: every row of a snapshot at once, as always; streamed:
  // in chunks.
  const auto rows = [&](int64_t t, int64_t b, int64_t e) { return m.rows().snapshot_range(t, b, e); };
  const int64_t rows_per_pass = m.streamed ? chunk : N;
  if (m.options.rare_feature_evidence) take_top_projecting_where_rare(rows, rows_per_pass, directions, reference, &on);
  return to_vector(strength_of(rows, T, rows_per_pass, directions, on, reference));
}

}  // namespace cw
