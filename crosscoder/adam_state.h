// Adam for the crosscoder's parameters, written out (private header, torch)
// so that its state is serialisable and can grow with the crosscoder.
//
// Bias correction counts steps per parameter slice, not globally: a slice
// that starts again from zero moments (a new head, a recruited latent, one
// emptied by a merge) starts its own count. Corrected with the global step
// N instead, its first update moves (1 − β1) √(1 − β2^N) / (√(1 − β2)
// (1 − β1^N)) · lr, 3.1 × lr at N = 3,000, and the next hundreds of steps
// more than lr too — on the newest head, the one that dates emergence.
#ifndef CW_CROSSCODER_ADAM_STATE_H_
#define CW_CROSSCODER_ADAM_STATE_H_

#include <torch/types.h>

#include "crosscoder/training_step.h"

namespace cw {

struct AdamHyper {
  double beta1 = 0.9, beta2 = 0.999, eps = 1e-8;
  double threshold_lr_scale = 1;  // log τ learns at lr × this
};

struct AdamState {
  CrosscoderParams m, v;  // moments, shaped as the parameters
  // Steps each slice has taken since its moments were last zero (int64):
  torch::Tensor latent_steps;     // [T, F]: W_D^t row i, W_E^t column i, b_E^t_i
  torch::Tensor threshold_steps;  // [F]: log τ_i
  torch::Tensor head_steps;       // [T]: b_D^t

  // Zero moments and counts for parameters shaped as p.
  static AdamState zeros_for(const CrosscoderParams& p);
  // A state whose every slice has taken `steps` steps (states saved before
  // the counts existed were corrected with the global step, as if so).
  void set_all_steps(int64_t steps);

  // One Adam step on *p with gradient g at learning rate lr.
  void update(CrosscoderParams* p, const CrosscoderParams& g, double lr, const AdamHyper& hyper);
  // A new head (T → T + 1) with zero moments and counts.
  void append_head();
  // Latents `ids` start over: their moments and counts at every head, and
  // their threshold's, are zero.
  void reset_latents(const torch::Tensor& ids);

  AdamState to(const torch::Device& device) const;
  // m, v then the three counts: the serialised order.
  std::vector<torch::Tensor*> all();
};

}  // namespace cw

#endif  // CW_CROSSCODER_ADAM_STATE_H_
