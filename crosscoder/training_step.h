// One training step's loss and gradients, two ways: a dense autograd
// reference and the manual sparse path used for training. Private header
// (includes torch); the public API is crosscoder.h.
//
// Parameter layout (T snapshots, d model width, F features):
//   w_enc [F, T·d]  row i = feature i's encoder over the concatenated inputs
//   w_dec [T, F, d] b_enc [T, F]  b_dec [T, d]  log_tau [F]
// A batch x is [B, T, d] (normalised units).
#ifndef CW_CROSSCODER_TRAINING_STEP_H_
#define CW_CROSSCODER_TRAINING_STEP_H_

#include <torch/torch.h>

#include <string>
#include <utility>
#include <vector>

namespace cw {

struct CrosscoderParams {
  torch::Tensor w_enc, w_dec, b_enc, b_dec, log_tau;
  std::vector<torch::Tensor*> all() { return {&w_enc, &w_dec, &b_enc, &b_dec, &log_tau}; }
  CrosscoderParams zeros_like() const;
  CrosscoderParams clone() const;
  CrosscoderParams to(const torch::Device& device) const;
};

struct LossConstants {
  double lambda = 0;  // sparsity coefficient (after its schedule)
  double window = 4;  // ε of the rectangle kernel
  double tanh_scale = 4;
  double quad_scale = 0.01;
};

struct StepResult {
  double loss = 0, mse = 0, sparsity = 0;
  CrosscoderParams grad;
};

// h = x_cat · w_encᵀ + Σ_θ b_enc^θ: [B, F].
torch::Tensor pre_activation(const CrosscoderParams& p, const torch::Tensor& x);
// Decoder row norms ‖W_D,i^θ‖: [T, F].
torch::Tensor decoder_norms(const CrosscoderParams& p);

// A base point of the straight-through surrogate: h0 [B, F] and
// z0 = h0·‖W_D‖ − τ [B, T, F] at the parameters where the gradient is taken.
struct SurrogatePoint {
  torch::Tensor h0, z0;
};

// The loss as an autograd graph whose gradient is our straight-through
// estimator (docs/CROSSCODER.md): gate = 1[z0 > 0] + ramp(z) − ramp(z0) with
// z = h0·‖W_D‖ − τ. Without `frozen` the base point is the current one (the
// forward value is the exact JumpReLU loss); with it, finite differences of
// the returned value reproduce the estimator.
torch::Tensor dense_loss(const CrosscoderParams& p, const torch::Tensor& x, const LossConstants& c,
                         const SurrogatePoint* frozen = nullptr, double* mse = nullptr, double* sparsity = nullptr);

// Wall seconds per phase of sparse_step, summed over the calls given it
// (profiling: the bench's --profile).
struct PhaseTimes {
  std::vector<std::pair<std::string, double>> seconds;  // first-seen order
  void add(const char* phase, double s);
};

// Reference: dense_loss + autograd.
StepResult dense_step(const CrosscoderParams& p, const torch::Tensor& x, const LossConstants& c);
// The manual forward/backward: dense encoder GEMM, active-latent decoder and
// encoder-weight gradient, one dense GEMM per head for the gate's window
// terms; the element-wise passes are fused loops (sparse_kernels.h), heads
// one at a time. float or double.
StepResult sparse_step(const CrosscoderParams& p, const torch::Tensor& x, const LossConstants& c,
                       PhaseTimes* phases = nullptr);

}  // namespace cw

#endif  // CW_CROSSCODER_TRAINING_STEP_H_
