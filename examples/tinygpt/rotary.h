// Rotary position embedding (Su et al. 2021), as in GPT-NeoX and so in the
// Pythia models the paper studies: queries and keys are rotated by an angle
// proportional to their position, so attention scores depend on relative
// position and nothing positional is added to the residual stream. (Pythia
// rotates a quarter of each head's dimensions; here all of them.)
//
// Why tinygpt offers it (`--positions rotary`): with learned absolute
// position embeddings, position carries half of blocks.1.resid_post's
// variance at step 0 and 99% by step 1,000 on the repeat task, and the
// token the induction heads copy 2-3% at any time, so a crosscoder on that
// residual spends its features on position and the induction transition
// leaves little trace in them. With rotary embeddings the copied token's
// share rises from 5% to 39% across the transition (docs/CROSSCODER.md
// "tinygpt: position in the residual stream").
#ifndef CW_EXAMPLES_TINYGPT_ROTARY_H_
#define CW_EXAMPLES_TINYGPT_ROTARY_H_

#include <torch/torch.h>

namespace cw {

class Rotary {
 public:
  Rotary() = default;
  // Angles for positions [0, context) of heads `head_dim` wide (even).
  Rotary(int64_t context, int64_t head_dim);

  // x: [B, heads, T, head_dim], T <= context. Rotates pairs (i, i + head_dim/2)
  // of each position t by t · 10000^(−2i/head_dim).
  torch::Tensor apply(const torch::Tensor& x) const;

 private:
  torch::Tensor cos_, sin_;  // [context, head_dim / 2]
};

}  // namespace cw

#endif  // CW_EXAMPLES_TINYGPT_ROTARY_H_
