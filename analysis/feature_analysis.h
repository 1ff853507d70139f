// Turns the crosscoder's per-feature statistics into trajectories (what the
// CLI shows and the store keeps) and per-snapshot aggregate series (what the
// phase-transition detector watches). Torch-free: it works on FeatureStats.
#ifndef CW_ANALYSIS_FEATURE_ANALYSIS_H_
#define CW_ANALYSIS_FEATURE_ANALYSIS_H_

#include <cstdint>
#include <vector>

#include "crosscoder/crosscoder_results.h"
#include "detect/emergence.h"
#include "store/analysis_tables.h"

namespace cw {

struct SnapshotAggregates {
  uint64_t step = 0;
  double features_alive = 0;         // live features present (normalised norm >= threshold and firing)
  double features_alive_share = 0;   // the same as a share of the dictionary, so one noise floor fits every size
  double features_emerging = 0;      // live features whose current emergence snapshot is this one
  double mean_direction_change = 0;  // mean 1 − cos(previous) over present features
};

struct FeatureAnalysis {
  std::vector<FeatureTrajectory> trajectories;          // every feature
  std::vector<SnapshotAggregates> aggregates;           // every snapshot
  std::vector<std::vector<FeatureEvent>> events;        // per feature, over the whole series
  std::vector<bool> live;                               // fired on the probe set at some snapshot
};

// `steps` are the crosscoder's snapshot steps (T of them); stats hold T × F
// values. A feature that never fires on the probe set is dead: it has a
// trajectory but no events.
FeatureAnalysis analyse_features(const FeatureStats& stats, const std::vector<uint64_t>& steps,
                                 const EmergenceOptions& options);

}  // namespace cw

#endif  // CW_ANALYSIS_FEATURE_ANALYSIS_H_
