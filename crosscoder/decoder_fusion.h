// The fused penalty on each latent's decoder rows across snapshots (option
// `decoder_fusion`, 0: off): (κ/T) Σ_i Σ_{θ<T−1} ‖W_D,i^{θ+1} − W_D,i^θ‖.
// A latent whose row changes at one snapshot and stays pays once; a row
// that appears at a few snapshots and goes again pays twice its size, so
// short spikes are dropped unless they explain enough, and a latent keeps
// one direction across the run instead of carrying another concept in
// another era (docs/CROSSCODER.md "Fused decoder rows"). Divided by T as
// the reconstruction term is a mean over heads: κ trades one snapshot's
// worth of error against one change of a row, whatever the number of
// snapshots. Not in the paper's loss. Private header (includes torch).
#ifndef CW_CROSSCODER_DECODER_FUSION_H_
#define CW_CROSSCODER_DECODER_FUSION_H_

#include <torch/types.h>

#include <cstdint>

namespace cw {

class HeadGroup;

// The penalty as an autograd expression over all heads of w_dec [T, F, d]
// (the dense reference; its gradient at a zero difference is 0).
torch::Tensor decoder_fusion_loss(const torch::Tensor& w_dec, double coefficient);

// Adds the penalty's gradient to grad_w_dec (w_dec's shape) and returns the
// penalty. With a group, w_dec holds this rank's contiguous block of heads
// and `total_heads` all of them; the differences across block boundaries
// are summed over the group ((W − 1) [F, d] tensors per call), and the
// returned penalty is this rank's part (the differences into its heads):
// the parts sum to the whole crosscoder's. Every difference is its own
// [F, d] computation, so the gradient does not depend on how heads are split.
double add_decoder_fusion(const torch::Tensor& w_dec, double coefficient, int64_t total_heads, HeadGroup* group,
                          torch::Tensor& grad_w_dec);

}  // namespace cw

#endif  // CW_CROSSCODER_DECODER_FUSION_H_
