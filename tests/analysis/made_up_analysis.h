// Feature analyses from hand-made statistics, for the torch-free analysis
// tests.
#ifndef CW_TESTS_ANALYSIS_MADE_UP_ANALYSIS_H_
#define CW_TESTS_ANALYSIS_MADE_UP_ANALYSIS_H_

#include <cstdint>
#include <vector>

#include "analysis/feature_analysis.h"

namespace cw {

// Hand-made statistics: per feature its decoder norm at each snapshot (its
// maximum is 1, so these are the normalised norms too); every feature fires
// on 10% of the tokens with mean activation 1, except dead ones.
inline FeatureAnalysis analysis_of(const std::vector<std::vector<float>>& norms, const std::vector<bool>& dead) {
  const std::size_t n_features = norms.size(), n_snap = norms[0].size();
  FeatureStats stats;
  for (auto* v : {&stats.decoder_norm, &stats.frequency, &stats.mean_activation, &stats.max_activation,
                  &stats.cos_previous, &stats.cos_latest})
    v->assign(n_features * n_snap, 1.0f);
  for (std::size_t t = 0; t < n_snap; ++t) {
    for (std::size_t f = 0; f < n_features; ++f) {
      stats.decoder_norm[t * n_features + f] = norms[f][t];
      stats.frequency[t * n_features + f] = dead[f] ? 0.0f : 0.1f;
    }
  }
  std::vector<uint64_t> steps;
  for (std::size_t t = 0; t < n_snap; ++t) steps.push_back(100 * t);
  return analyse_features(stats, steps, EmergenceOptions{});
}

}  // namespace cw

#endif  // CW_TESTS_ANALYSIS_MADE_UP_ANALYSIS_H_
