// Rows of latents that have faded: the heads at which the emergence readout
// calls a latent gone (its normalised decoder norm below kLatentOff after it
// was at or above kLatentOn at an earlier head). Torch-free.
//
// Why they are silenced (zeroed, with their Adam moments): the threshold τ
// is one per latent, shared by its heads, and the pre-activation h is shared
// too, so a latent that still serves its older heads keeps firing at a head
// where its decoder row has shrunk to a few hundredths: it decodes almost
// nothing there but counts in L0 at every such head, and it is never free
// for recruitment (it fires at the newest head). On the planted quiet-then-
// mass d 128 stream, after the idle refinement, 742 latents fired at the
// newest head with under 0.05 of their largest norm: L0 2.12 of the 5.58 the
// newest snapshot reported, carrying 0.04% of its energy (docs/CROSSCODER.md
// "Faded rows are silenced"). The daemon reads such a latent as faded
// already (at its default levels: latent_levels.h), so silencing it changes
// no claim; it only ends the firing and,
// at the newest head, makes the latent a faded one that recruitment may
// reuse. A zeroed row gets no gradient (its gate u = h‖W_D‖ stays 0), so the
// latent does not return at that head; a later feature there is a recruit.
#ifndef CW_CROSSCODER_FADED_ROWS_H_
#define CW_CROSSCODER_FADED_ROWS_H_

#include <cstdint>
#include <vector>

#include "crosscoder/latent_levels.h"

namespace cw {

struct FadedRow {
  int64_t head = 0;
  int64_t latent = 0;
};

// `norms` is [T × F] row-major (norms[t * F + i] = ‖W_D,i^t‖). Every
// non-zero row whose norm is below kLatentOff of the latent's largest and
// which comes after a head at or above kLatentOn of it; head-major order.
std::vector<FadedRow> faded_rows(const float* norms, int64_t T, int64_t F);

}  // namespace cw

#endif  // CW_CROSSCODER_FADED_ROWS_H_
