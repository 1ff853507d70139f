// Read-only analysis on the probe set: metrics, per-feature statistics,
// encoding of new activations and attribution.
#include <cmath>
#include <limits>
#include <stdexcept>
#include <unordered_map>
#include <torch/utils.h>

#include "crosscoder/crosscoder.h"
#include "crosscoder/crosscoder_impl.h"

namespace cw {

namespace {

std::vector<float> to_vector(const torch::Tensor& t) {
  const auto c = t.to(torch::kFloat32).contiguous();
  return std::vector<float>(c.data_ptr<float>(), c.data_ptr<float>() + c.numel());
}

}  // namespace

std::vector<SnapshotMetrics> Crosscoder::evaluate() const {
  const auto& m = *impl_;
  const int64_t T = m.n_snap(), F = m.options.n_features, N = m.n_tokens, d = m.options.d_model;
  std::vector<SnapshotMetrics> out(T);
  if (T == 0) return out;
  torch::NoGradGuard no_grad;
  // Per snapshot, [2, T]: the rows trained on (0) and the held-out rows (1).
  auto sq_err = torch::zeros({2, T}, torch::kFloat64), active = torch::zeros({2, T}, torch::kFloat64);
  auto sum_x = torch::zeros({2, T, d}, torch::kFloat64), sum_sq = torch::zeros({2, T}, torch::kFloat64);
  auto rows = torch::zeros({2}, torch::kFloat64);
  auto held_err_sq = torch::zeros({T}, torch::kFloat64);  // Σ over held-out rows of ‖x − x̂‖⁴: the errors' spread
  auto fires = torch::zeros({T, F}, torch::kFloat64);
  const int64_t chunk = m.chunk_rows(F);
  for (int64_t b = 0; b < N; b += chunk) {
    const int64_t e = std::min(N, b + chunk);
    const auto x = m.probe_rows(b, e);
    torch::Tensor f, x_hat;
    m.forward(x, &f, &x_hat);
    const auto held = m.held_out(b, e);
    const auto on = (f > 0).to(torch::kFloat32);
    const auto err = (x - x_hat).pow(2), sq = x.pow(2);
    held_err_sq += (err.sum(2).to(torch::kFloat64).pow(2) * held.to(torch::kFloat64).unsqueeze(1)).sum(0);
    for (int64_t part = 0; part < 2; ++part) {
      const auto w = (part == 1 ? held : held.logical_not()).to(torch::kFloat32);  // [R]
      const auto wx = w.view({-1, 1, 1});
      sq_err[part] += (err * wx).sum(std::vector<int64_t>{0, 2}).to(torch::kFloat64);
      const auto on_part = on * wx;
      active[part] += on_part.sum(std::vector<int64_t>{0, 2}).to(torch::kFloat64);
      if (part == 0) fires += on_part.sum(0).to(torch::kFloat64);
      sum_x[part] += (x * wx).sum(0).to(torch::kFloat64);
      sum_sq[part] += (sq * wx).sum(std::vector<int64_t>{0, 2}).to(torch::kFloat64);
      rows[part] += w.sum().to(torch::kFloat64);
    }
  }
  const double n = rows[0].item<double>(), n_held = rows[1].item<double>();
  // E‖x − x̄‖² = E‖x‖² − ‖x̄‖².
  auto variance = [&](int64_t part, double count) {
    return sum_sq[part] / count - (sum_x[part] / count).pow(2).sum(1);
  };
  const auto trained_variance = variance(0, n);
  const auto freq = fires / n;
  for (int64_t t = 0; t < T; ++t) {
    auto& s = out[t];
    s.step = m.steps[t];
    s.mse = sq_err[0][t].item<double>() / n;
    s.explained_variance = 1.0 - s.mse / trained_variance[t].item<double>();
    s.l0 = active[0][t].item<double>() / n;
    s.dead_fraction = (freq[t] < m.options.dead_frequency).to(torch::kFloat64).mean().item<double>();
    s.dense_fraction = (freq[t] > m.options.dense_frequency).to(torch::kFloat64).mean().item<double>();
    if (n_held > 0) {
      s.held_out_rows = static_cast<int64_t>(n_held);
      const double mean_err = sq_err[1][t].item<double>() / n_held, held_variance = variance(1, n_held)[t].item<double>();
      s.held_out_explained_variance = 1.0 - mean_err / held_variance;
      const double err_variance = std::max(0.0, held_err_sq[t].item<double>() / n_held - mean_err * mean_err);
      s.held_out_explained_variance_se = std::sqrt(err_variance / n_held) / held_variance;
      s.held_out_l0 = active[1][t].item<double>() / n_held;
    }
  }
  return out;
}

FeatureStats Crosscoder::feature_stats(int64_t top_k, const std::vector<uint32_t>* probe_token_ids) const {
  const auto& m = *impl_;
  const int64_t T = m.n_snap(), F = m.options.n_features, N = m.n_tokens;
  if (T == 0) throw std::logic_error("crosscoder: feature_stats() needs a snapshot");
  if (probe_token_ids && static_cast<int64_t>(probe_token_ids->size()) != N)
    throw std::invalid_argument("feature_stats: probe_token_ids must have one id per probe token");
  torch::NoGradGuard no_grad;
  top_k = std::min(top_k, N);
  FeatureStats st;
  st.top_k = top_k;
  const auto norms = decoder_norms(m.params);  // [T, F]
  const auto dirs = m.params.w_dec / norms.unsqueeze(2).clamp_min(1e-12);
  auto cos_prev = torch::ones({T, F});
  if (T > 1) cos_prev.slice(0, 1).copy_((dirs.slice(0, 1) * dirs.slice(0, 0, T - 1)).sum(2));
  const auto cos_last = (dirs * dirs[T - 1].unsqueeze(0)).sum(2);

  // Token ids → dense group index, for the between-token variance.
  std::vector<int64_t> group(N, 0);
  int64_t n_groups = 0;
  if (probe_token_ids) {
    std::unordered_map<uint32_t, int64_t> ids;
    for (int64_t i = 0; i < N; ++i) {
      auto it = ids.emplace((*probe_token_ids)[i], static_cast<int64_t>(ids.size())).first;
      group[i] = it->second;
    }
    n_groups = static_cast<int64_t>(ids.size());
  }
  const auto group_t = torch::tensor(group, torch::kInt64);
  auto group_sum = torch::zeros({std::max<int64_t>(n_groups, 1), F}, torch::kFloat64);
  auto group_count = torch::zeros({std::max<int64_t>(n_groups, 1)}, torch::kFloat64);

  auto fires = torch::zeros({T, F}, torch::kFloat64), act_sum = torch::zeros({T, F}, torch::kFloat64);
  auto act_max = torch::zeros({T, F});
  auto last_sum = torch::zeros({F}, torch::kFloat64), last_sq = torch::zeros({F}, torch::kFloat64);
  auto top_vals = torch::zeros({0, F}), top_rows = torch::zeros({0, F}, torch::kInt64);
  const int64_t chunk = m.chunk_rows(F);
  for (int64_t b = 0; b < N; b += chunk) {
    const int64_t e = std::min(N, b + chunk);
    torch::Tensor f;
    m.forward(m.probe_rows(b, e), &f, nullptr);
    fires += (f > 0).sum(0).to(torch::kFloat64);
    act_sum += f.sum(0).to(torch::kFloat64);
    act_max = torch::maximum(act_max, f.amax(0));
    const auto last = f.select(1, T - 1);
    last_sum += last.sum(0).to(torch::kFloat64);
    last_sq += last.pow(2).sum(0).to(torch::kFloat64);
    if (probe_token_ids) {
      const auto g = group_t.slice(0, b, e);
      group_sum.index_add_(0, g, last.to(torch::kFloat64));
      group_count.index_add_(0, g, torch::ones({e - b}, torch::kFloat64));
    }
    // Running top-k per feature: merge this chunk's rows with the best so far.
    const auto cand_vals = torch::cat({top_vals, last}, 0);
    const auto cand_rows = torch::cat({top_rows, torch::arange(b, e).unsqueeze(1).expand({e - b, F})}, 0);
    const int64_t k = std::min<int64_t>(top_k, cand_vals.size(0));
    auto best = cand_vals.topk(k, 0);
    top_vals = std::get<0>(best);
    top_rows = cand_rows.gather(0, std::get<1>(best));
  }
  const auto freq = fires / static_cast<double>(N);
  st.decoder_norm = to_vector(norms);
  st.frequency = to_vector(freq);
  st.mean_activation = to_vector(act_sum / fires.clamp_min(1));
  st.max_activation = to_vector(act_max);
  st.cos_previous = to_vector(cos_prev);
  st.cos_latest = to_vector(cos_last);
  // [F × k], zero activation = unused slot.
  top_vals = top_vals.clamp_min(0).t().contiguous();
  top_rows = top_rows.t().contiguous();
  st.top_activations = to_vector(top_vals);
  st.top_rows.resize(F * top_k);
  for (int64_t i = 0; i < F * top_k; ++i)
    st.top_rows[i] = st.top_activations[i] > 0 ? static_cast<uint32_t>(top_rows.data_ptr<int64_t>()[i]) : 0;

  st.contextuality.assign(F, std::numeric_limits<float>::quiet_NaN());
  const double n = static_cast<double>(N);
  const auto mean = last_sum / n;
  const auto total_var = last_sq / n - mean.pow(2);
  torch::Tensor between;
  if (probe_token_ids) between = (group_sum.pow(2) / group_count.clamp_min(1).unsqueeze(1)).sum(0) / n - mean.pow(2);
  for (int64_t i = 0; i < F; ++i) {
    const double tv = total_var[i].item<double>();
    if (!(freq[T - 1][i].item<double>() > 0) || !(tv > 0)) continue;
    if (!probe_token_ids) continue;
    const double r2 = std::min(1.0, std::max(0.0, between[i].item<double>() / tv));
    st.contextuality[i] = static_cast<float>(1.0 - r2);
  }
  st.activation_strength = activation_strength();
  return st;
}

torch::Tensor Crosscoder::Impl::normalised_input(const std::vector<const float*>& raw, int64_t rows) const {
  const auto& m = *this;
  if (static_cast<int64_t>(raw.size()) != m.n_snap())
    throw std::invalid_argument("crosscoder: need raw activations for every one of the " +
                                std::to_string(m.n_snap()) + " snapshots");
  std::vector<torch::Tensor> per_head;
  for (int64_t t = 0; t < m.n_snap(); ++t)
    per_head.push_back(normalised_rows(torch::from_blob(const_cast<float*>(raw[t]), {rows, m.options.d_model}, torch::kFloat32),
                                       m.scales[t], m.per_row()));
  return torch::stack(per_head, 1);
}

std::vector<float> Crosscoder::decoder_directions(int64_t snapshot) const {
  const auto& m = *impl_;
  if (snapshot < 0 || snapshot >= m.n_snap())
    throw std::invalid_argument("decoder_directions: snapshot index out of range");
  torch::NoGradGuard no_grad;
  return to_vector(m.params.w_dec[snapshot]);
}

std::vector<float> Crosscoder::strongest_decoder_directions() const {
  const auto& m = *impl_;
  torch::NoGradGuard no_grad;
  const auto& w = m.params.w_dec;  // [T, F, d]
  const auto strongest = w.norm(2, {2}).argmax(0);  // [F]: the head of each feature's largest norm
  return to_vector(w.index({strongest, torch::arange(w.size(1))}));
}

std::vector<float> Crosscoder::encode(const std::vector<const float*>& raw_per_snapshot, int64_t rows,
                                      int64_t snapshot) const {
  const auto& m = *impl_;
  if (snapshot < 0 || snapshot >= m.n_snap()) throw std::invalid_argument("encode: snapshot index out of range");
  torch::Tensor f;
  m.forward(m.normalised_input(raw_per_snapshot, rows), &f, nullptr);
  return to_vector(f.select(1, snapshot));
}

namespace {

// Σ_rows f_i^θ · ∂m/∂f_i^θ for one snapshot's activations f [rows, F]:
// x̂_raw = x̂_norm / scale, so ∂m/∂f_i = (W_D,i · ∂m/∂x_raw) / scale.
// Token-wise the scale is each row's own, √d / ‖x_raw‖ (the row's norm held
// fixed: the decoder's output is read at the row's scale).
torch::Tensor attribution_at(const Crosscoder::Impl& m, const torch::Tensor& f, const float* raw, const float* gradient,
                             int64_t rows, int64_t snapshot) {
  const int64_t d = m.options.d_model;
  const auto g = torch::from_blob(const_cast<float*>(gradient), {rows, d}, torch::kFloat32);
  const auto x = torch::from_blob(const_cast<float*>(raw), {rows, d}, torch::kFloat32);
  const auto dm_df = torch::mm(g, m.params.w_dec[snapshot].t()) / row_factors(x, m.scales[snapshot], m.per_row());
  return (f * dm_df).sum(0);
}

}  // namespace

std::vector<float> Crosscoder::attribution(const std::vector<const float*>& raw_per_snapshot, const float* gradient,
                                           int64_t rows, int64_t snapshot) const {
  const auto& m = *impl_;
  if (snapshot < 0 || snapshot >= m.n_snap()) throw std::invalid_argument("attribution: snapshot index out of range");
  torch::Tensor f;
  m.forward(m.normalised_input(raw_per_snapshot, rows), &f, nullptr);
  return to_vector(attribution_at(m, f.select(1, snapshot), raw_per_snapshot[snapshot], gradient, rows, snapshot));
}

std::vector<float> Crosscoder::attributions(const std::vector<const float*>& raw_per_snapshot,
                                            const std::vector<const float*>& gradient_per_snapshot, int64_t rows) const {
  const auto& m = *impl_;
  const int64_t T = m.n_snap(), F = m.options.n_features, d = m.options.d_model;
  if (static_cast<int64_t>(gradient_per_snapshot.size()) != T || static_cast<int64_t>(raw_per_snapshot.size()) != T)
    throw std::invalid_argument("attributions: need activations and a gradient for every one of the " +
                                std::to_string(T) + " snapshots");
  torch::NoGradGuard no_grad;
  auto out = torch::zeros({T, F}, torch::kFloat64);
  // In chunks of rows: f is [rows, T, F].
  const int64_t chunk = m.chunk_rows(F);
  std::vector<const float*> raw(T);
  for (int64_t b = 0; b < rows; b += chunk) {
    const int64_t e = std::min(rows, b + chunk);
    for (int64_t t = 0; t < T; ++t) raw[t] = raw_per_snapshot[t] + b * d;
    torch::Tensor f;
    m.forward(m.normalised_input(raw, e - b), &f, nullptr);
    for (int64_t t = 0; t < T; ++t)
      out[t] += attribution_at(m, f.select(1, t), raw[t], gradient_per_snapshot[t] + b * d, e - b, t).to(torch::kFloat64);
  }
  return to_vector(out);
}

}  // namespace cw
