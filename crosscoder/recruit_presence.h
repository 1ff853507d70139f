// Where a recruit's direction was already present before the newest
// snapshot (private header, torch): recruit_dead_latents sets each older
// head's decoder norm from it.
#ifndef CW_CROSSCODER_RECRUIT_PRESENCE_H_
#define CW_CROSSCODER_RECRUIT_PRESENCE_H_

#include <torch/types.h>

#include "crosscoder/crosscoder_impl.h"

namespace cw {

// For recruits with unit decoder `direction` [R, d] at the newest head and
// thresholds τ [R] (their encoder reads the newest head only): the decoder
// norm each older head's own residual supports, [T−1, R] in [0, 1].
torch::Tensor older_head_presence(const Crosscoder::Impl& model, const torch::Tensor& direction,
                                  const torch::Tensor& threshold);

}  // namespace cw

#endif  // CW_CROSSCODER_RECRUIT_PRESENCE_H_
