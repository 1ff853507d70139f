// Latents that switch on, off and on again across the heads: the online
// crosscoder's reuse of one latent for two eras. Torch-free.
//
// Online, a latent whose early heads held an initialisation direction that
// faded is free at the later heads, and training puts a feature of a later
// era on it (same tokens firing, another decoder direction). Read from the
// decoder norms that is a feature that faded and came back: flicker, and a
// re-emergence claim the data does not make (docs/CROSSCODER.md "What the
// flicker on tinygpt is"). Splitting such a latent in two at the head where
// it returns — one keeps the heads before, a copy of its encoder and
// threshold takes the heads from there on — decodes exactly the same (the
// heads partition; each head's gate and decoding are its own) and lowers the
// sparsity loss (its frequency term is superlinear in a latent's firing
// rate, which the two now share), so it is a move training would take if it
// could make it one step at a time. Off by default (CrosscoderOptions::
// split_returning_cosine): on planted streams the split latents are dated
// at their return and that misdated atoms (docs/CROSSCODER.md).
#ifndef CW_CROSSCODER_RETURNING_LATENTS_H_
#define CW_CROSSCODER_RETURNING_LATENTS_H_

#include <cstdint>
#include <vector>

#include "crosscoder/latent_levels.h"

namespace cw {

struct ReturningLatent {
  int64_t latent = 0;
  int64_t before_peak = 0;  // the head where its norm was largest before it went off
  int64_t returns_at = 0;   // the first head at or above kLatentOn after it went off
  int64_t after_peak = 0;   // its largest head from returns_at until it goes off again (or the last head)
};

// `norms` is [T × F] row-major (head-major: norms[t * F + i] = ‖W_D,i^t‖).
// Every latent whose normalised norm is on, then off, then on again (the
// first such return per latent), ascending by latent.
std::vector<ReturningLatent> returning_latents(const float* norms, int64_t T, int64_t F);

}  // namespace cw

#endif  // CW_CROSSCODER_RETURNING_LATENTS_H_
