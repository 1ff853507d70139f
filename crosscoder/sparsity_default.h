// The sparsity coefficient λ when none is given: the paper's 0.3 at its
// dictionary sizes, scaled for the dictionary and model width at hand
// (torch-free; the derivation and the measurements are in docs/CROSSCODER.md).
#ifndef CW_CROSSCODER_SPARSITY_DEFAULT_H_
#define CW_CROSSCODER_SPARSITY_DEFAULT_H_

#include <cstdint>

#include "crosscoder/crosscoder_options.h"  // kAutoSparsityLambda

namespace cw {

// λ for `n_features` latents over activations of width `d_model` (both > 0;
// throws std::invalid_argument otherwise). Equal to the paper's 0.3 at its
// setting (d_model 768, 32k-98k features); smaller for small dictionaries,
// whose latents each fire on a larger share of tokens, where the penalty's
// quadratic term p̂²/0.01 makes every activation dearer.
double auto_sparsity_lambda(int64_t d_model, int64_t n_features);

}  // namespace cw

#endif  // CW_CROSSCODER_SPARSITY_DEFAULT_H_
