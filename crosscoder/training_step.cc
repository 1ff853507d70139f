#include "crosscoder/training_step.h"

#include <torch/utils.h>

#include <algorithm>
#include <chrono>

#include "crosscoder/decoder_fusion.h"
#include "crosscoder/sparse_kernels.h"

namespace cw {

CrosscoderParams CrosscoderParams::zeros_like() const {
  return {torch::zeros_like(w_enc), torch::zeros_like(w_dec), torch::zeros_like(b_enc), torch::zeros_like(b_dec),
          torch::zeros_like(log_tau)};
}

CrosscoderParams CrosscoderParams::clone() const {
  return {w_enc.clone(), w_dec.clone(), b_enc.clone(), b_dec.clone(), log_tau.clone()};
}

CrosscoderParams CrosscoderParams::to(const torch::Device& device) const {
  return {w_enc.to(device), w_dec.to(device), b_enc.to(device), b_dec.to(device), log_tau.to(device)};
}

void CrosscoderParams::append_head(bool copy_previous) {
  const int64_t F = w_dec.size(1), d = w_dec.size(2);
  w_enc = torch::cat({w_enc, torch::zeros({F, d}, w_enc.options())}, 1);
  w_dec = torch::cat({w_dec, copy_previous ? w_dec.slice(0, -1) : torch::zeros({1, F, d}, w_dec.options())}, 0);
  b_enc = torch::cat({b_enc, torch::zeros({1, F}, b_enc.options())}, 0);
  b_dec = torch::cat({b_dec, copy_previous ? b_dec.slice(0, -1) : torch::zeros({1, d}, b_dec.options())}, 0);
}

torch::Tensor pre_activation(const CrosscoderParams& p, const torch::Tensor& x) {
  const auto x_cat = x.reshape({x.size(0), -1});
  return torch::addmm(p.b_enc.sum(0), x_cat, p.w_enc.t());
}

torch::Tensor decoder_norms(const CrosscoderParams& p) { return p.w_dec.norm(2, {2}); }

FrozenGate freeze_gate(const CrosscoderParams& p, const torch::Tensor& x, const LossConstants& c) {
  torch::NoGradGuard no_grad;
  const auto norms = decoder_norms(p);                                  // [T, F]
  const auto tau = p.log_tau.exp();                                     // [F]
  const auto u = pre_activation(p, x).unsqueeze(1) * norms.unsqueeze(0);  // [B, T, F]
  // u > 0 implies ‖W_D‖ > 0: the clamp only keeps 0 · ∞ out of the rest.
  const auto in_window = ((u - tau).abs() < c.window / 2) & (u > 0);
  const auto dtau = in_window.to(u.scalar_type()) * (-tau / (c.window * norms.clamp_min(1e-30)));
  return {(u > tau).to(u.scalar_type()), dtau, tau};
}

torch::Tensor dense_loss(const CrosscoderParams& p, const torch::Tensor& x, const LossConstants& c,
                         const FrozenGate* frozen, double* mse_out, double* sparsity_out) {
  const auto h = pre_activation(p, x);  // [B, F]
  const auto norms = decoder_norms(p);  // [T, F]
  const auto gate = frozen ? *frozen : freeze_gate(p, x, c);
  const auto f = h.unsqueeze(1) * gate.open + gate.dtau * (p.log_tau.exp() - gate.tau);  // [B, T, F]
  const auto x_hat = torch::bmm(f.transpose(0, 1), p.w_dec).transpose(0, 1) + p.b_dec;  // [B, T, d]
  const auto mse = (x - x_hat).pow(2).sum(-1).mean();
  const auto score = torch::tanh(c.tanh_scale * f * norms.unsqueeze(0));
  const auto p_hat = score.mean(std::vector<int64_t>{0, 1});
  const auto sparsity = c.lambda * (p_hat * (1 + p_hat / c.quad_scale)).sum();
  if (mse_out) *mse_out = mse.item<double>();
  if (sparsity_out) *sparsity_out = sparsity.item<double>();
  return mse + sparsity + decoder_fusion_loss(p.w_dec, c.fusion);
}

StepResult dense_step(const CrosscoderParams& p, const torch::Tensor& x, const LossConstants& c) {
  torch::AutoGradMode enable_grad(true);  // callers may hold a NoGradGuard
  CrosscoderParams q = p.clone();
  for (auto* t : q.all()) t->set_requires_grad(true);
  StepResult r;
  auto loss = dense_loss(q, x, c, nullptr, &r.mse, &r.sparsity);
  loss.backward();
  r.loss = loss.item<double>();
  r.fusion = r.loss - r.mse - r.sparsity;
  r.grad = {q.w_enc.grad(), q.w_dec.grad(), q.b_enc.grad(), q.b_dec.grad(), q.log_tau.grad()};
  return r;
}

namespace {

// Rows per block of the active-set search: blocks run in parallel, each
// filling its own list, then are joined in order.
constexpr int64_t kRowBlock = 64;
// Features per parallel task of the [F, ·] passes.
constexpr int64_t kFeatureGrain = 1024;
// Features per block of the backward GEMM: the window pass reads its
// [B, kGBlock] output while still in cache, and the scratch is 8 MB, not
// [B, F]. Narrower blocks cost GEMM efficiency (256: ~1.5× slower at d 256).
constexpr int64_t kGBlock = 2048;
// Features per parallel task of the window pass inside one block.
constexpr int64_t kWindowGrain = 64;

// Records the wall time since the previous lap under a phase name.
class Laps {
 public:
  explicit Laps(PhaseTimes* out) : out_(out), last_(std::chrono::steady_clock::now()) {}
  void operator()(const char* phase) {
    if (!out_) return;
    const auto now = std::chrono::steady_clock::now();
    out_->add(phase, std::chrono::duration<double>(now - last_).count());
    last_ = now;
  }

 private:
  PhaseTimes* out_;
  std::chrono::steady_clock::time_point last_;
};

template <typename S>
const S* data(const torch::Tensor& t) {
  return t.data_ptr<S>();
}

// Every head's active pairs, in one pass over h: a row of h is read from
// memory once and from cache by the other heads.
template <typename S>
std::vector<kernels::ActiveSet<S>> find_active_sets(const torch::Tensor& h, const torch::Tensor& norms,
                                                    const torch::Tensor& tau) {
  const int64_t B = h.size(0), F = h.size(1), T = norms.size(0);
  const int64_t blocks = (B + kRowBlock - 1) / kRowBlock;
  std::vector<std::vector<kernels::ActiveSet<S>>> parts(blocks, std::vector<kernels::ActiveSet<S>>(T));
  at::parallel_for(0, blocks, 1, [&](int64_t b0, int64_t b1) {
    for (int64_t k = b0; k < b1; ++k)
      kernels::find_active(data<S>(h), data<S>(norms), data<S>(tau), T, F, k * kRowBlock,
                           std::min(B, (k + 1) * kRowBlock), parts[k].data());
  });
  std::vector<kernels::ActiveSet<S>> heads(T);
  for (int64_t t = 0; t < T; ++t) {
    for (const auto& part : parts) kernels::append_rows(part[t], &heads[t]);
    heads[t].s.resize(heads[t].f.size());
  }
  return heads;
}

// One head's tanh scores and reconstruction error x̂ − x (into err [B, d]).
template <typename S>
void head_forward(const torch::Tensor& n, const torch::Tensor& w, const torch::Tensor& b_dec, const torch::Tensor& x_t,
                  double tanh_scale, kernels::ActiveSet<S>* a, torch::Tensor& err) {
  const int64_t B = err.size(0), d = w.size(1);
  at::parallel_for(0, B, kRowBlock, [&](int64_t r0, int64_t r1) {
    kernels::decode_rows(data<S>(w), data<S>(b_dec), data<S>(x_t), x_t.stride(0), data<S>(n),
                         static_cast<S>(tanh_scale), d, r0, r1, a, err.data_ptr<S>());
  });
}

// One head's backward pass. g_scratch holds one block of ∂L/∂f's GEMM part
// ([B, kGBlock]): the GEMM runs block by block so the window pass reads it
// from cache. tau_acc gathers the window's τ terms over heads (∂L/∂τ =
// −τ · tau_acc); dh the encoder's ∂L/∂h.
template <typename S>
void head_backward(const kernels::ActiveSet<S>& a, const torch::Tensor& h, const torch::Tensor& n,
                   const torch::Tensor& tau, const torch::Tensor& w, const torch::Tensor& ge,
                   const std::vector<S>& dscore, const LossConstants& c, torch::Tensor& g_scratch,
                   std::vector<double>& tau_acc, kernels::SparseGrad<S>* dh, torch::Tensor gw, Laps& lap) {
  const int64_t B = h.size(0), F = h.size(1), d = w.size(1);
  const S* np = data<S>(n);
  std::vector<S> k(F);  // ∂L/∂f's sparsity part at s = 0
  for (int64_t i = 0; i < F; ++i) k[i] = static_cast<S>(c.tanh_scale) * np[i] * dscore[i];
  std::vector<double> norm_acc(F, 0.0);  // ∂L/∂‖W_D,i‖: the sparsity score's term only
  kernels::BlockEntries entries;
  for (int64_t f0 = 0; f0 < F; f0 += kGBlock) {
    const int64_t f1 = std::min(F, f0 + kGBlock);
    // ∂L/∂f's mse part on the whole block: the window needs it off the active set.
    torch::Tensor g = torch::from_blob(g_scratch.data_ptr<S>(), {B, f1 - f0}, g_scratch.options());
    torch::mm_out(g, ge, w.narrow(0, f0, f1 - f0).t());
    lap("backward GEMM");
    const kernels::GBlock<S> G{g.data_ptr<S>(), f1 - f0, f0, f1};
    kernels::next_block(a, f1, &entries);
    kernels::fold_active_scores(a, entries, k.data(), G);
    at::parallel_for(f0, f1, kWindowGrain, [&](int64_t i0, int64_t i1) {
      kernels::window_terms(data<S>(h), G, np, data<S>(tau), k.data(), static_cast<S>(c.window), B, F, i0, i1,
                            tau_acc.data());
    });
    kernels::active_backward(a, entries, G, k.data(), dscore.data(), static_cast<S>(c.tanh_scale), dh,
                             norm_acc.data());
    lap("backward window");
  }
  at::parallel_for(0, F, kFeatureGrain, [&](int64_t f0, int64_t f1) {
    kernels::decoder_norm_grad(data<S>(w), norm_acc.data(), np, d, f0, f1, gw.data_ptr<S>());
  });
  kernels::scatter_decoder_grad(a, data<S>(ge), d, gw.data_ptr<S>());
  lap("backward decoder");
}

// `spare` when it is defined with `sizes` and `options`' type, else a new
// tensor: the storage of an earlier step's gradient (StepContext::reuse).
torch::Tensor reuse_or_empty(const torch::Tensor& spare, torch::IntArrayRef sizes, const torch::TensorOptions& options) {
  if (spare.defined() && spare.sizes() == sizes && spare.scalar_type() == options.dtype().toScalarType() &&
      spare.is_contiguous())
    return spare;
  return torch::empty(sizes, options);
}

// ∂L/∂W_E = dHᵀ X_cat and ∂L/∂b_E (the same for every head) from the sparse dH.
template <typename S>
void encoder_backward(const kernels::SparseGrad<S>& dh, const torch::Tensor& x_cat, int64_t T, CrosscoderParams* g) {
  const int64_t F = g->log_tau.size(0), K = x_cat.size(1);
  const auto buckets = kernels::bucket_by_feature(dh, F, x_cat.size(0));
  g->w_enc = reuse_or_empty(g->w_enc, {F, K}, x_cat.options());
  auto db = torch::empty({F}, x_cat.options());
  at::parallel_for(0, F, kFeatureGrain / 4, [&](int64_t f0, int64_t f1) {
    kernels::encoder_grad(buckets, data<S>(x_cat), K, f0, f1, g->w_enc.data_ptr<S>(), db.data_ptr<S>());
  });
  g->b_enc = db.unsqueeze(0).expand({T, F}).clone();
}

// dH as a dense [B, F] in float64: what the ranks of a head group sum, each
// holding the entries of its own heads. In float64 the sum over heads is
// exact for all but far-apart magnitudes, so it is the same however the
// heads are split.
template <typename S>
torch::Tensor dense_dh(const kernels::SparseGrad<S>& dh, int64_t B, int64_t F) {
  auto dense = torch::zeros({B, F}, torch::kDouble);
  double* out = dense.data_ptr<double>();
  for (size_t j = 0; j < dh.val.size(); ++j) out[int64_t(dh.row[j]) * F + dh.feat[j]] += double(dh.val[j]);
  return dense;
}

// h = Σ_θ (x^θ W_E^θᵀ + b_E^θ) over this rank's heads, each head's GEMM
// alone and the sum in float64: the same for any split of the heads.
torch::Tensor pre_activation_by_head(const CrosscoderParams& p, const torch::Tensor& x) {
  const int64_t T = x.size(1), d = x.size(2);
  auto h = p.b_enc.to(torch::kDouble).sum(0).unsqueeze(0).repeat({x.size(0), 1});
  for (int64_t t = 0; t < T; ++t) h += torch::mm(x.select(1, t), p.w_enc.narrow(1, t * d, d).t()).to(torch::kDouble);
  return h;
}

// A [F] or scalar sum over the ranks of `group` (none: unchanged).
void sum_over(HeadGroup* group, std::vector<double>* values) {
  if (!group) return;
  auto t = torch::from_blob(values->data(), {int64_t(values->size())}, torch::kDouble);
  group->sum(t);
}
double sum_over(HeadGroup* group, double value) {
  std::vector<double> one{value};
  sum_over(group, &one);
  return one[0];
}

// L_s = λ Σ p̂_i (1 + p̂_i / q) with p̂_i = score_sum_i / N; *dscore gets
// ∂L_s/∂score, the same for every (row, θ): λ (1 + 2 p̂_i / q) / N.
template <typename S>
double sparsity_terms(const std::vector<double>& score_sum, double N, const LossConstants& c,
                      std::vector<S>* dscore) {
  double sum = 0;
  dscore->resize(score_sum.size());
  for (size_t i = 0; i < score_sum.size(); ++i) {
    const double p_hat = score_sum[i] / N;
    sum += p_hat * (1 + p_hat / c.quad_scale);
    (*dscore)[i] = static_cast<S>(c.lambda * (1 + 2 * p_hat / c.quad_scale) / N);
  }
  return c.lambda * sum;
}

template <typename S>
StepResult sparse_step_typed(const CrosscoderParams& p, const torch::Tensor& x_in, const LossConstants& c,
                             const StepContext& context) {
  Laps lap(context.phases);
  HeadGroup* group = context.group;
  const auto x = x_in.contiguous();
  const int64_t B = x.size(0), T = x.size(1), d = x.size(2), F = p.w_enc.size(0);
  const double N = sum_over(group, static_cast<double>(B * T));  // every head's (row, head) pairs
  const auto x_cat = x.reshape({B, -1});
  torch::Tensor h;
  if (!group) {
    h = torch::addmm(p.b_enc.sum(0), x_cat, p.w_enc.t()).contiguous();  // the dense floor
    lap("encoder GEMM");
  } else {
    auto h64 = pre_activation_by_head(p, x);
    lap("encoder GEMM");
    group->sum(h64);
    h = h64.to(x.scalar_type()).contiguous();
    lap("sum h");
  }
  const auto w_dec = p.w_dec.contiguous();
  const auto norms = decoder_norms(p).contiguous();
  const auto tau = p.log_tau.exp().contiguous();
  const auto b_dec = p.b_dec.contiguous();
  lap("norms");

  StepResult r;
  auto heads = find_active_sets<S>(h, norms, tau);
  lap("forward gate");
  auto err = torch::empty({T, B, d}, x.options());  // x̂ − x per head
  std::vector<double> score_sum(F, 0.0);
  for (int64_t t = 0; t < T; ++t) {
    auto err_t = err[t];
    head_forward<S>(norms[t], w_dec[t], b_dec[t], x.select(1, t), c.tanh_scale, &heads[t], err_t);
    for (size_t j = 0; j < heads[t].feat.size(); ++j) score_sum[heads[t].feat[j]] += heads[t].s[j];
  }
  lap("forward decode");
  sum_over(group, &score_sum);
  std::vector<S> dscore;
  r.mse = sum_over(group, err.pow(2).sum().item<double>()) / N;
  r.sparsity = sparsity_terms(score_sum, N, c, &dscore);
  r.loss = r.mse + r.sparsity;

  CrosscoderParams& g = r.grad;
  if (context.reuse) g.w_enc = context.reuse->w_enc, g.w_dec = context.reuse->w_dec;
  const auto ge_all = (2.0 / N) * err;  // ∂mse/∂x̂, [T, B, d]
  g.b_dec = ge_all.sum(1);
  g.w_dec = reuse_or_empty(g.w_dec, w_dec.sizes(), w_dec.options());
  auto g_scratch = torch::empty({B, std::min(F, kGBlock)}, h.options());
  std::vector<double> tau_acc(F, 0.0);
  kernels::SparseGrad<S> dh;
  lap("loss");
  for (int64_t t = 0; t < T; ++t)
    head_backward<S>(heads[t], h, norms[t], tau, w_dec[t], ge_all[t], dscore, c, g_scratch, tau_acc, &dh,
                     g.w_dec[t], lap);
  if (c.fusion != 0) {
    r.fusion = sum_over(group, add_decoder_fusion(w_dec, c.fusion, static_cast<int64_t>(N) / B, group, g.w_dec));
    r.loss += r.fusion;
  }
  // ∂L/∂log τ = τ ∂L/∂τ = −τ² · tau_acc.
  sum_over(group, &tau_acc);
  g.log_tau = -tau * tau * torch::tensor(tau_acc, torch::kDouble).to(tau.scalar_type());
  if (!group) {
    encoder_backward(dh, x_cat, T, &g);
  } else {
    // Every rank's heads add to ∂L/∂h; W_E^θ's gradient needs all of it,
    // and is each head's own GEMM, written in place (one GEMM over a rank's
    // heads rounds differently with their number: 1 and 2 ranks ended 0.78
    // apart; a fresh [F, d] product per head cost 6x in page faults).
    auto dense64 = dense_dh(dh, B, F);
    group->sum(dense64);
    lap("sum dh");
    const auto dense = dense64.to(h.scalar_type());
    g.w_enc = reuse_or_empty(g.w_enc, {F, x_cat.size(1)}, x_cat.options());
    for (int64_t t = 0; t < T; ++t) {
      auto head = g.w_enc.narrow(1, t * d, d);
      torch::mm_out(head, dense.t(), x.select(1, t));
    }
    g.b_enc = dense64.sum(0).to(h.scalar_type()).unsqueeze(0).expand({T, F}).clone();
  }
  lap("encoder gradient");
  return r;
}

}  // namespace

void PhaseTimes::add(const char* phase, double s) {
  for (auto& entry : seconds)
    if (entry.first == phase) {
      entry.second += s;
      return;
    }
  seconds.emplace_back(phase, s);
}

StepResult sparse_step(const CrosscoderParams& p, const torch::Tensor& x, const LossConstants& c,
                       const StepContext& context) {
  torch::NoGradGuard no_grad;
  if (x.scalar_type() == torch::kDouble) return sparse_step_typed<double>(p, x, c, context);
  TORCH_CHECK(x.scalar_type() == torch::kFloat, "sparse_step: float or double input");
  return sparse_step_typed<float>(p, x, c, context);
}

}  // namespace cw
