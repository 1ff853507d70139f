#include "crosscoder/adam_state.h"

#include <torch/utils.h>

#include <cmath>

namespace cw {

namespace {

// Per slice, lr / (1 − β1^n) and 1 / √(1 − β2^n) for counts n (after this
// step's increment, so n ≥ 1), in the parameters' dtype.
struct Correction {
  torch::Tensor step, inv_sqrt_c2;
};

Correction correction(const torch::Tensor& counts, double lr, const AdamHyper& h, torch::Dtype dtype) {
  const auto n = counts.to(torch::kFloat64);
  const auto c1 = 1 - torch::pow(h.beta1, n);
  const auto c2 = 1 - torch::pow(h.beta2, n);
  return {(lr / c1).to(dtype), c2.rsqrt().to(dtype)};
}

// p −= step · m / (√v · inv_sqrt_c2 + eps), the corrections broadcast over p.
void apply(torch::Tensor& p, const torch::Tensor& m, const torch::Tensor& v, const Correction& c, double eps) {
  auto update = v.sqrt();
  update.mul_(c.inv_sqrt_c2).add_(eps).reciprocal_().mul_(m).mul_(c.step);
  p.sub_(update);
}

void moments(torch::Tensor& m, torch::Tensor& v, const torch::Tensor& g, const AdamHyper& h) {
  m.mul_(h.beta1).add_(g, 1 - h.beta1);
  v.mul_(h.beta2).addcmul_(g, g, 1 - h.beta2);
}

}  // namespace

AdamState AdamState::zeros_for(const CrosscoderParams& p) {
  const auto counts = torch::TensorOptions().dtype(torch::kInt64).device(p.w_dec.device());
  const int64_t T = p.w_dec.size(0), F = p.w_dec.size(1);
  return {p.zeros_like(), p.zeros_like(), torch::zeros({T, F}, counts), torch::zeros({F}, counts),
          torch::zeros({T}, counts)};
}

void AdamState::set_all_steps(int64_t steps) {
  for (auto* counts : {&latent_steps, &threshold_steps, &head_steps}) counts->fill_(steps);
}

void AdamState::update(CrosscoderParams* p, const CrosscoderParams& g, double lr, const AdamHyper& h) {
  torch::NoGradGuard no_grad;
  for (auto* counts : {&latent_steps, &threshold_steps, &head_steps}) counts->add_(1);
  const auto dtype = p->w_dec.scalar_type();
  const auto latent = correction(latent_steps, lr, h, dtype);  // [T, F]
  const auto head = correction(head_steps, lr, h, dtype);      // [T]
  const auto threshold = correction(threshold_steps, lr * h.threshold_lr_scale, h, dtype);
  const int64_t T = p->w_dec.size(0), F = p->w_dec.size(1);

  moments(m.w_dec, v.w_dec, g.w_dec, h);  // [T, F, d]
  apply(p->w_dec, m.w_dec, v.w_dec, {latent.step.unsqueeze(2), latent.inv_sqrt_c2.unsqueeze(2)}, h.eps);
  moments(m.w_enc, v.w_enc, g.w_enc, h);  // [F, T·d], as [F, T, d]
  auto w_enc = p->w_enc.view({F, T, -1});
  apply(w_enc, m.w_enc.view({F, T, -1}), v.w_enc.view({F, T, -1}),
        {latent.step.t().unsqueeze(2), latent.inv_sqrt_c2.t().unsqueeze(2)}, h.eps);
  moments(m.b_enc, v.b_enc, g.b_enc, h);  // [T, F]
  apply(p->b_enc, m.b_enc, v.b_enc, latent, h.eps);
  moments(m.b_dec, v.b_dec, g.b_dec, h);  // [T, d]
  apply(p->b_dec, m.b_dec, v.b_dec, {head.step.unsqueeze(1), head.inv_sqrt_c2.unsqueeze(1)}, h.eps);
  moments(m.log_tau, v.log_tau, g.log_tau, h);  // [F]
  apply(p->log_tau, m.log_tau, v.log_tau, threshold, h.eps);
}

void AdamState::append_head() {
  m.append_head(false);
  v.append_head(false);
  latent_steps = torch::cat({latent_steps, torch::zeros_like(latent_steps.slice(0, -1))}, 0);
  head_steps = torch::cat({head_steps, torch::zeros_like(head_steps.slice(0, -1))}, 0);
}

void AdamState::reset_latents(const torch::Tensor& ids) {
  torch::NoGradGuard no_grad;
  using torch::indexing::Slice;
  for (auto* moment : {&m, &v}) {
    moment->w_dec.index_put_({Slice(), ids}, 0);
    moment->w_enc.index_put_({ids}, 0);
    moment->b_enc.index_put_({Slice(), ids}, 0);
    moment->log_tau.index_put_({ids}, 0);
  }
  latent_steps.index_put_({Slice(), ids}, 0);
  threshold_steps.index_put_({ids}, 0);
}

AdamState AdamState::to(const torch::Device& device) const {
  return {m.to(device), v.to(device), latent_steps.to(device), threshold_steps.to(device), head_steps.to(device)};
}

std::vector<torch::Tensor*> AdamState::all() {
  std::vector<torch::Tensor*> out = m.all();
  for (auto* t : v.all()) out.push_back(t);
  for (auto* t : {&latent_steps, &threshold_steps, &head_steps}) out.push_back(t);
  return out;
}

}  // namespace cw
