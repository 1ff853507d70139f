#include "crosscoder/training_step.h"

namespace cw {

namespace {

torch::Tensor ramp(const torch::Tensor& z, double window) { return (z / window + 0.5).clamp(0.0, 1.0); }

}  // namespace

CrosscoderParams CrosscoderParams::zeros_like() const {
  return {torch::zeros_like(w_enc), torch::zeros_like(w_dec), torch::zeros_like(b_enc), torch::zeros_like(b_dec),
          torch::zeros_like(log_tau)};
}

CrosscoderParams CrosscoderParams::clone() const {
  return {w_enc.clone(), w_dec.clone(), b_enc.clone(), b_dec.clone(), log_tau.clone()};
}

torch::Tensor pre_activation(const CrosscoderParams& p, const torch::Tensor& x) {
  const auto x_cat = x.reshape({x.size(0), -1});
  return torch::addmm(p.b_enc.sum(0), x_cat, p.w_enc.t());
}

torch::Tensor decoder_norms(const CrosscoderParams& p) { return p.w_dec.norm(2, {2}); }

torch::Tensor dense_loss(const CrosscoderParams& p, const torch::Tensor& x, const LossConstants& c,
                         const SurrogatePoint* frozen, double* mse_out, double* sparsity_out) {
  const auto h = pre_activation(p, x);                         // [B, F]
  const auto norms = decoder_norms(p);                         // [T, F]
  const auto tau = p.log_tau.exp();                            // [F]
  // The gate's input with h detached: its pseudo-derivative reaches τ and
  // ‖W_D‖, never h (h's gradient is ReLU-like, active entries only).
  const auto h0 = frozen ? frozen->h0 : h.detach();
  const auto z = h0.unsqueeze(1) * norms.unsqueeze(0) - tau;  // [B, T, F]
  const auto z0 = frozen ? frozen->z0 : z.detach();
  const auto gate = (z0 > 0).to(h.scalar_type()) + ramp(z, c.window) - ramp(z0, c.window);
  const auto f = h.unsqueeze(1) * gate;                        // [B, T, F]
  const auto x_hat = torch::bmm(f.transpose(0, 1), p.w_dec).transpose(0, 1) + p.b_dec;  // [B, T, d]
  const auto mse = (x - x_hat).pow(2).sum(-1).mean();
  const auto score = torch::tanh(c.tanh_scale * f * norms.unsqueeze(0));
  const auto p_hat = score.mean(std::vector<int64_t>{0, 1});
  const auto sparsity = c.lambda * (p_hat * (1 + p_hat / c.quad_scale)).sum();
  if (mse_out) *mse_out = mse.item<double>();
  if (sparsity_out) *sparsity_out = sparsity.item<double>();
  return mse + sparsity;
}

StepResult dense_step(const CrosscoderParams& p, const torch::Tensor& x, const LossConstants& c) {
  torch::AutoGradMode enable_grad(true);  // callers may hold a NoGradGuard
  CrosscoderParams q = p.clone();
  for (auto* t : q.all()) t->set_requires_grad(true);
  StepResult r;
  auto loss = dense_loss(q, x, c, nullptr, &r.mse, &r.sparsity);
  loss.backward();
  r.loss = loss.item<double>();
  r.grad = {q.w_enc.grad(), q.w_dec.grad(), q.b_enc.grad(), q.b_dec.grad(), q.log_tau.grad()};
  return r;
}

namespace {

// What the backward pass needs of one head's forward pass.
struct HeadForward {
  torch::Tensor rows, feats;  // active (row, feature) pairs
  torch::Tensor f, score;     // their activations and tanh scores
  torch::Tensor u;            // h ‖W_D^θ‖, dense [B, F]
  torch::Tensor error;        // x̂ − x, [B, d]
};

}  // namespace

StepResult sparse_step(const CrosscoderParams& p, const torch::Tensor& x, const LossConstants& c) {
  torch::NoGradGuard no_grad;
  const int64_t B = x.size(0), T = x.size(1), F = p.w_enc.size(0);
  const double N = static_cast<double>(B * T);
  const auto x_cat = x.reshape({B, -1});
  const auto h = torch::addmm(p.b_enc.sum(0), x_cat, p.w_enc.t());  // the dense floor
  const auto norms = decoder_norms(p);
  const auto tau = p.log_tau.exp();

  StepResult r;
  std::vector<HeadForward> heads(T);
  auto score_sum = torch::zeros({F}, h.options());
  double sq_error = 0;
  for (int64_t t = 0; t < T; ++t) {
    auto& hf = heads[t];
    hf.u = h * norms[t];
    const auto idx = (hf.u > tau).nonzero();
    hf.rows = idx.select(1, 0);
    hf.feats = idx.select(1, 1);
    hf.f = h.index({hf.rows, hf.feats});
    const auto w = p.w_dec[t];
    auto x_hat = p.b_dec[t].expand({B, -1}).clone();
    x_hat.index_add_(0, hf.rows, w.index_select(0, hf.feats) * hf.f.unsqueeze(1));
    hf.error = x_hat - x.select(1, t);
    sq_error += hf.error.pow(2).sum().item<double>();
    hf.score = torch::tanh(c.tanh_scale * hf.f * norms[t].index_select(0, hf.feats));
    score_sum.index_add_(0, hf.feats, hf.score);
  }
  const auto p_hat = score_sum / N;
  r.mse = sq_error / N;
  r.sparsity = c.lambda * (p_hat * (1 + p_hat / c.quad_scale)).sum().item<double>();
  r.loss = r.mse + r.sparsity;

  // ∂L_s/∂score for every (row, θ, i): λ (1 + 2 p̂_i / q) / N.
  const auto dscore = c.lambda * (1 + 2 * p_hat / c.quad_scale) / N;
  auto g = p.zeros_like();
  auto d_norms = torch::zeros_like(norms);
  std::vector<torch::Tensor> dh_rows, dh_feats, dh_vals;
  for (int64_t t = 0; t < T; ++t) {
    const auto& hf = heads[t];
    const auto w = p.w_dec[t];
    const auto n = norms[t];
    const auto ge = (2.0 / N) * hf.error;  // ∂mse/∂x̂
    g.b_dec[t].copy_(ge.sum(0));
    // ∂L/∂f everywhere (the window terms need it off the active set too):
    // mse part by one GEMM, sparsity part c·‖W_D‖·(1 − s²)·dscore with s = 0
    // where inactive.
    auto g_f = torch::mm(ge, w.t()) + c.tanh_scale * n * dscore;
    const auto n_act = n.index_select(0, hf.feats);
    const auto ds_act = dscore.index_select(0, hf.feats);
    g_f.index_put_({hf.rows, hf.feats}, -c.tanh_scale * n_act * ds_act * hf.score.pow(2), /*accumulate=*/true);
    // Rectangle kernel on z = h‖W_D‖ − τ: gate' = 1/ε inside the window.
    const auto in_window = ((hf.u - tau).abs() < c.window / 2).to(h.scalar_type());
    const auto w_rect = g_f * h * in_window / c.window;  // ∂L/∂gate · (1/ε) · rect
    g.log_tau -= tau * w_rect.sum(0);
    d_norms[t] += (w_rect * h).sum(0);
    // Direct dependence of the score on ‖W_D‖ (active entries only).
    d_norms[t].index_add_(0, hf.feats, c.tanh_scale * ds_act * hf.f * (1 - hf.score.pow(2)));
    // h gets ∂L/∂f where the gate is open.
    dh_rows.push_back(hf.rows);
    dh_feats.push_back(hf.feats);
    dh_vals.push_back(g_f.index({hf.rows, hf.feats}));
    // Decoder: mse part from the active set, norm part along each row.
    auto gw = g.w_dec[t];
    gw.index_add_(0, hf.feats, ge.index_select(0, hf.rows) * hf.f.unsqueeze(1));
    gw += (d_norms[t] / n.clamp_min(1e-12)).unsqueeze(1) * w;
  }
  // Encoder weight gradient X_catᵀ dH with dH sparse: [F, B] sparse × [B, T·d].
  const auto rows = torch::cat(dh_rows), feats = torch::cat(dh_feats), vals = torch::cat(dh_vals);
  const auto dh_t = torch::sparse_coo_tensor(torch::stack({feats, rows}), vals, {F, B}).coalesce();
  g.w_enc = torch::mm(dh_t, x_cat);
  auto db = torch::zeros({F}, h.options());
  db.index_add_(0, feats, vals);
  g.b_enc = db.unsqueeze(0).expand({T, F}).clone();
  r.grad = std::move(g);
  return r;
}

}  // namespace cw
