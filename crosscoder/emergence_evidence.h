// Evidence for a feature's emergence read from the activations themselves,
// not from its decoder norm. Torch-free header.
//
// Why: with a shared pre-activation, everything a crosscoder says about a
// feature at snapshot t (its decoder norm, and so its firing frequency
// h·‖W_D^t‖ > τ) is the crosscoder's choice of how to split the data, and it
// can shrink a decoder norm where the feature is merely weaker or was picked
// up late (arXiv 2504.02922; a latent recruited at snapshot s starts its
// older heads at a tenth of its norm). The data can be asked directly.
//
// Activation strength of feature i at snapshot t: take its reference
// snapshot r_i (where its decoder norm is largest, normalised norm 1), its
// unit decoder direction u_i there and the probe tokens R_i it fires on
// there; then
//   signal_i^t = mean_{n ∈ R_i} x_n^t·u_i − mean_{n ∉ R_i} x_n^t·u_i
//   strength_i^t = signal_i^t / signal_i^{r_i}
// with x^t the normalised activations (the crosscoder's units). The second
// mean removes what every token has along u_i (the activations' mean, other
// features' overlap), so a direction absent at t gives ~0 on R_i, and a
// feature as strong at t as at r_i gives ~1: the same scale as the
// normalised decoder norm, which makes the two directly comparable. It
// projects the raw activations, not the crosscoder's residual: if another
// latent carried the same direction at t, the model had it, and the claimed
// emergence is the crosscoder moving it between latents.
#ifndef CW_CROSSCODER_EMERGENCE_EVIDENCE_H_
#define CW_CROSSCODER_EMERGENCE_EVIDENCE_H_

#include <cstdint>
#include <vector>

namespace cw {

struct ActivationStrengthInput {
  int64_t n_tokens = 0, d_model = 0, n_features = 0;
  std::vector<const float*> activations;  // per snapshot, [n_tokens × d_model] (normalised)
  const float* directions = nullptr;      // [n_features × d_model], unit rows u_i
  const uint8_t* on_tokens = nullptr;     // [n_tokens × n_features]: 1 where n ∈ R_i
  std::vector<int64_t> reference;         // per feature, r_i
  // true: a feature with fewer than kMinEvidenceTokens tokens in R_i is
  // measured on the kMinEvidenceTokens tokens that project most on u_i at
  // r_i instead (what Crosscoder::activation_strength() does).
  bool top_projecting_where_rare = false;
};

// strength [T × F] (snapshot-major, as FeatureStats). A feature whose
// signal at its reference snapshot is not measurable is NaN at every
// snapshot: fewer than kMinEvidenceTokens tokens in R_i or outside it, or a
// reference signal below kMinSignalStandardErrors standard errors (a
// feature firing on a handful of tokens where the projection happens to be
// high); with top_projecting_where_rare, too few tokens in R_i is not one
// of those. Throws std::invalid_argument on inconsistent sizes.
std::vector<float> activation_strength(const ActivationStrengthInput& input);

// 8 tokens: fewer give a standard error that is itself noise.
inline constexpr int64_t kMinEvidenceTokens = 8;
// 3 standard errors: R_i is chosen where the feature fires, which already
// favours tokens whose projection is high, so a weaker bar would admit
// features whose whole "signal" is that selection.
inline constexpr double kMinSignalStandardErrors = 3.0;

// Crosscoder::activation_strength() for a rare feature, one that fires on
// fewer than kMinEvidenceTokens probe tokens at its strongest head: if it
// is still present at the newest head (normalised norm >= kLatentOff,
// crosscoder/latent_levels.h: what the events call present) in a direction
// its strongest head does not share (|cos| < kSameDirectionCosine), it is
// measured in its newest era's direction (the strongest head agreeing with
// the newest one), the feature `features` shows now; and where it still
// fires on too few tokens there, R_i is the kMinEvidenceTokens tokens that
// project most on that direction. Why: a latent can peak on a rare
// direction nobody planted and then hold an atom present all along at a
// lower norm (docs/CROSSCODER.md "Rare features"); without both its
// emergence went unmeasured and was claimed late.
// 0.5: the cosine the era split of crosscoder/returning_latents.h measured
// (a returning latent's two directions: |cos| 0.04–0.41).
inline constexpr double kSameDirectionCosine = 0.5;

// Per feature, the strongest head of its newest era (the heads whose
// decoder direction agrees with the newest head's, |cos| >=
// kSameDirectionCosine) where the newest head is still present (normalised
// norm >= kLatentOff); its strongest head otherwise. w_dec is
// [T × F × d] (head-major, as the crosscoder holds it). Throws
// std::invalid_argument on sizes that are not positive.
std::vector<int64_t> latest_era_heads(const float* w_dec, int64_t n_snapshots, int64_t n_features, int64_t d_model);

}  // namespace cw

#endif  // CW_CROSSCODER_EMERGENCE_EVIDENCE_H_
