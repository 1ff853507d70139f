// Do two crosscoders trained on the same snapshots date the same features'
// emergence alike? `conceptwatch refit` asks it of the online crosscoder and
// the paper's offline fit: features are matched by decoder direction at the
// final snapshot, and each matched pair's first emergence is compared.
// Torch-free.
#ifndef CW_ANALYSIS_EMERGENCE_AGREEMENT_H_
#define CW_ANALYSIS_EMERGENCE_AGREEMENT_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

#include "analysis/feature_analysis.h"

namespace cw {

// One crosscoder's side: its analysis and its decoder rows W_D at the final
// snapshot, [F × d_model] row-major (Crosscoder::decoder_directions).
struct AgreementSide {
  const FeatureAnalysis* analysis = nullptr;
  const std::vector<float>* final_decoder = nullptr;
};

struct AgreementOptions {
  // 0.8: the bar for "the same feature". At d_model 64 two random
  // unit vectors reach 0.8 with probability ~1e-13, so a match is not chance.
  double min_cosine = 0.8;
  // Dates that differ by at most this many snapshots agree (the online dates
  // are retrospective and settle within about one snapshot).
  std::size_t tolerance = 1;
  double threshold = 0.5;  // EmergenceOptions::threshold of both analyses
};

// When a feature first became present: 0 for one present from snapshot 0
// (normalised norm at `threshold` there, the emergence tracker's rule), else
// the snapshot where its norm first reached it (its first emerged or
// strengthened event), or nullopt when it never did.
std::optional<std::size_t> first_presence(const FeatureTrajectory& trajectory, const std::vector<FeatureEvent>& events,
                                          double threshold);

struct MatchedFeature {
  uint32_t feature = 0;      // in the first crosscoder
  uint32_t other = 0;        // its best match in the second
  double cosine = 0;
  std::optional<std::size_t> first, other_first;  // first_presence of each
  bool agrees = false;       // both never present, or within tolerance
};

struct EmergenceAgreement {
  std::size_t live = 0;      // live features of the first crosscoder
  std::vector<MatchedFeature> matched;  // those with a match at min_cosine
  std::size_t agreeing = 0;
  double share() const { return matched.empty() ? 0.0 : double(agreeing) / double(matched.size()); }
};

// Matches every live feature of `first` to the live feature of `second`
// whose final decoder row is closest in cosine (several may share one). Throws
// std::invalid_argument when the two disagree on the number of snapshots or
// d_model.
EmergenceAgreement emergence_agreement(const AgreementSide& first, const AgreementSide& second,
                                       const AgreementOptions& options = {});

}  // namespace cw

#endif  // CW_ANALYSIS_EMERGENCE_AGREEMENT_H_
