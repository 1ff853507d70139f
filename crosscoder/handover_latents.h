// One feature held by two latents in turn: latent A holds a direction up to
// head s − 1 and is off from s on, latent B is off before s and holds the
// same direction from s on. Online this is how a feature gets split in time:
// A decodes it at the snapshots where it was learned, some of its rows stay
// unexplained as the feature strengthens, recruitment puts B on them at a
// later update, and B wins the heads from then on while A's shrink below its
// threshold. Read from decoder norms that is A fading and B emerging at s —
// an emergence the data does not have (planted quiet-then-mass d 64: 7 of
// the 9 atoms of the mass emergence dated late were such pairs;
// docs/CROSSCODER.md "Latents the others reconstruct"). Joining the pair
// gives B A's heads before s and frees A. Torch-free.
#ifndef CW_CROSSCODER_HANDOVER_LATENTS_H_
#define CW_CROSSCODER_HANDOVER_LATENTS_H_

#include <cstdint>
#include <vector>

namespace cw {

struct Handover {
  int64_t from = 0;  // A: on up to head at − 1, off from `at` on
  int64_t to = 0;    // B: off before `at`, on at `at`
  int64_t at = 0;
  double cosine = 0;  // the largest |cos| of A's rows where it is on with B's at `at`
};

// `w_dec` is [T × F × d] row-major. On and off are the emergence detector's
// levels of the normalised decoder norm (latent_levels.h: on from 0.5 of
// the latent's largest head, off below 0.3): A is on at at − 1 and below
// the on level at every head from `at`; B is below the off level at every
// head before `at` and on at `at`. Pairs where B's row at `at` has |cos| of
// at least `min_cosine` with A's row at some head where A is on, most
// similar first, each latent in one pair at most; ascending by `to`.
std::vector<Handover> handover_latents(const float* w_dec, int64_t T, int64_t F, int64_t d, double min_cosine);

}  // namespace cw

#endif  // CW_CROSSCODER_HANDOVER_LATENTS_H_
