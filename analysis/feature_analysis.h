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
// values. A feature's normalised norm at snapshot t is its decoder norm
// divided by the snapshot's spread (FeatureStats::spread; 1 when not given),
// over the largest such value across snapshots: emergence and fading are read
// from it. Per spread, because early in training a large shared mean takes
// most of the normalised activations: on tinygpt (repeat task, d_model 64)
// the spread fell to half at steps 40-100 and every feature's decoder norm
// with it, then rose back at 120 — read raw, 81% of live features crossed
// the emergence threshold more than once, 41% read per spread. A feature that never fires on the probe set is dead: it has a
// trajectory but no events.
FeatureAnalysis analyse_features(const FeatureStats& stats, const std::vector<uint64_t>& steps,
                                 const EmergenceOptions& options);

}  // namespace cw

#endif  // CW_ANALYSIS_FEATURE_ANALYSIS_H_
