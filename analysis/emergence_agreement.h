// Do two crosscoders trained on the same snapshots date the same features'
// emergence alike? `conceptwatch refit` asks it of the online crosscoder and
// the paper's offline fit: features are matched by decoder direction (one row
// per feature: at its strongest snapshot, or at the final one), and each
// matched pair's emergence is compared twice: first presence, and the
// emergence `conceptwatch features` claims (the latest era). Torch-free.
#ifndef CW_ANALYSIS_EMERGENCE_AGREEMENT_H_
#define CW_ANALYSIS_EMERGENCE_AGREEMENT_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

#include "analysis/feature_analysis.h"

namespace cw {

// One crosscoder's side: its analysis and one decoder row per feature, the
// direction it is matched by, [F × d_model] row-major: each feature's row at
// its strongest snapshot (Crosscoder::strongest_decoder_directions) or at the
// final one (Crosscoder::decoder_directions). docs/CROSSCODER.md "Emergence
// dates, online against the refit" says why the strongest is the default.
struct AgreementSide {
  const FeatureAnalysis* analysis = nullptr;
  const std::vector<float>* decoder = nullptr;
};

struct AgreementOptions {
  // 0.8: the bar for "the same feature". At d_model 64 two random
  // unit vectors reach 0.8 with probability ~1e-13, so a match is not chance.
  double min_cosine = 0.8;
  // Dates that differ by at most this many snapshots agree (the online dates
  // are retrospective and settle within about one snapshot).
  std::size_t tolerance = 1;
  double threshold = 0.5;  // EmergenceOptions::threshold of both analyses
  // Each feature of the second crosscoder is matched at most once, the
  // closest pairs first. Off, every feature takes its nearest, and several
  // may share one: on the demo run 8 online latents all matched one refit
  // feature, latents whose final rows are a faded leftover of one shared
  // direction, and each counted as a separate agreement or disagreement.
  bool one_to_one = true;
};

// When a feature first became present: 0 for one present from snapshot 0
// (normalised norm at `threshold` there, the emergence tracker's rule), else
// the snapshot where its norm first reached it (its first emerged or
// strengthened event), or nullopt when it never did.
std::optional<std::size_t> first_presence(const FeatureTrajectory& trajectory, const std::vector<FeatureEvent>& events,
                                          double threshold);

// The emergence a feature's summary claims (query/feature_summary.cc's
// `emerged_step`): the snapshot of its latest emerged or re-emerged event;
// without one, first_presence (0 for a feature present from snapshot 0, the
// `initially_present` claim; a strengthening's snapshot). A latent reused for
// a second era (present at 0, faded, back at the transition) is claimed at
// its return, where first_presence says 0.
std::optional<std::size_t> claimed_emergence(const FeatureTrajectory& trajectory,
                                             const std::vector<FeatureEvent>& events, double threshold);

struct MatchedFeature {
  uint32_t feature = 0;      // in the first crosscoder
  uint32_t other = 0;        // its best match in the second
  double cosine = 0;
  std::optional<std::size_t> first, other_first;  // first_presence of each
  bool agrees = false;       // both never present, or within tolerance
  std::optional<std::size_t> claimed, other_claimed;  // claimed_emergence of each
  bool claims_agree = false;  // the same rule over the claims
};

struct EmergenceAgreement {
  std::size_t live = 0;      // live features of the first crosscoder
  std::vector<MatchedFeature> matched;  // those with a match at min_cosine
  std::size_t agreeing = 0;
  std::size_t claims_agreeing = 0;
  double share() const { return matched.empty() ? 0.0 : double(agreeing) / double(matched.size()); }
  double claims_share() const { return matched.empty() ? 0.0 : double(claims_agreeing) / double(matched.size()); }
};

// Matches live features of `first` to live features of `second` by the
// cosine of their decoder rows (at least min_cosine; one to one unless
// options.one_to_one is off), in the order of `first`. Throws
// std::invalid_argument when the two disagree on the number of snapshots or
// d_model.
EmergenceAgreement emergence_agreement(const AgreementSide& first, const AgreementSide& second,
                                       const AgreementOptions& options = {});

}  // namespace cw

#endif  // CW_ANALYSIS_EMERGENCE_AGREEMENT_H_
