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

#include <torch/types.h>

#include <string>
#include <utility>
#include <vector>

#include "crosscoder/head_group.h"

namespace cw {

struct CrosscoderParams {
  torch::Tensor w_enc, w_dec, b_enc, b_dec, log_tau;
  std::vector<torch::Tensor*> all() { return {&w_enc, &w_dec, &b_enc, &b_dec, &log_tau}; }
  CrosscoderParams zeros_like() const;
  CrosscoderParams clone() const;
  CrosscoderParams to(const torch::Device& device) const;
  // One more head: W_E^t, b_E^t zero; W_D^t, b_D^t copies of head t − 1's,
  // or zero when !copy_previous.
  void append_head(bool copy_previous);
};

struct LossConstants {
  double lambda = 0;  // sparsity coefficient (after its schedule)
  double window = 4;  // ε of the rectangle kernel
  double tanh_scale = 4;
  double quad_scale = 0.01;
  double fusion = 0;  // κ of the fused decoder rows (crosscoder/decoder_fusion.h); 0: off
};

struct StepResult {
  double loss = 0, mse = 0, sparsity = 0, fusion = 0;  // loss = mse + sparsity + fusion
  CrosscoderParams grad;
};

// h = x_cat · w_encᵀ + Σ_θ b_enc^θ: [B, F].
torch::Tensor pre_activation(const CrosscoderParams& p, const torch::Tensor& x);
// Decoder row norms ‖W_D,i^θ‖: [T, F].
torch::Tensor decoder_norms(const CrosscoderParams& p);

// The gate of the straight-through estimator frozen at a base point: the
// open pairs [B, T, F] (u = h‖W_D‖ > τ) and, per pair, ∂f/∂τ there
// (−τ/(ε‖W_D‖) on pairs inside the window with u > 0, else 0), and τ itself.
struct FrozenGate {
  torch::Tensor open, dtau, tau;
};
FrozenGate freeze_gate(const CrosscoderParams& p, const torch::Tensor& x, const LossConstants& c);

// The loss as an autograd graph whose gradient is the reference
// implementation's JumpReLU straight-through estimator (docs/CROSSCODER.md):
// f = h · open, so ∂f/∂h = open and no gate gradient reaches ‖W_D‖ or h's
// closed pairs; τ enters as f += dtau · (τ − τ_base), which is 0 in value.
// Without `frozen` the gate is the current one (the forward value is the
// exact JumpReLU loss); with it, the returned value is a smooth function of
// the parameters whose gradient at the base point is the estimator, so
// finite differences of it reproduce the estimator.
torch::Tensor dense_loss(const CrosscoderParams& p, const torch::Tensor& x, const LossConstants& c,
                         const FrozenGate* frozen = nullptr, double* mse = nullptr, double* sparsity = nullptr);

// Wall seconds per phase of sparse_step, summed over the calls given it
// (profiling: the bench's --profile).
struct PhaseTimes {
  std::vector<std::pair<std::string, double>> seconds;  // first-seen order
  void add(const char* phase, double s);
};

// Reference: dense_loss + autograd.
StepResult dense_step(const CrosscoderParams& p, const torch::Tensor& x, const LossConstants& c);
// What a sparse step may use besides its inputs; every field optional.
struct StepContext {
  PhaseTimes* phases = nullptr;  // wall seconds per phase (profiling)
  // Head-parallel: p and x hold this rank's block of heads only (x: the same
  // B rows as every other rank's, at its own snapshots) and log τ is the
  // replica every rank holds. The result is then the whole crosscoder's
  // loss, with the gradients of this rank's parameters and of log τ (equal
  // on every rank), as the one-process step over all heads gives them. The
  // ranks sum h and ∂L/∂h ([B, F]) and per-feature sums (head_group.h).
  // With a group, h and ∂L/∂h are summed head by head in float64 and every
  // head's GEMMs are its own, so that the step does not depend on how the
  // heads are split into ranks (one rank of one, or four): float32 sums in
  // another order flip JumpReLU gates and the runs drift apart
  // (docs/SCALE_OUT.md "Trainer ranks").
  HeadGroup* group = nullptr;
  // An earlier step's gradients, no longer needed: the step writes its own
  // into their storage where the shapes still fit. A fresh [F, T·d] and
  // [T, F, d] per step are page-faulted in anew each time (the allocator
  // hands blocks that large back to the kernel): at d 768, 16,384 features
  // and 32 heads, 3.2 GB and ~4 of every 5 seconds of the step, in the
  // kernel (docs/SCALE_OUT.md).
  CrosscoderParams* reuse = nullptr;
};

// The manual forward/backward: dense encoder GEMM, active-latent decoder and
// encoder-weight gradient, one dense GEMM per head for the threshold's
// window terms; the element-wise passes are fused loops (sparse_kernels.h), heads
// one at a time. float or double.
StepResult sparse_step(const CrosscoderParams& p, const torch::Tensor& x, const LossConstants& c,
                       const StepContext& context = {});

}  // namespace cw

#endif  // CW_CROSSCODER_TRAINING_STEP_H_
