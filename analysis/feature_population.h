// Per-snapshot series of the feature population, from one feature analysis
// (every feature's trajectory as the crosscoder sees it after an update):
// how many features emerge at each snapshot, how much of the snapshot's
// reconstruction they carry, how much of the present population turns over,
// and how many features flicker. The transition detector watches some of
// them (analysis/tap_monitor.h); all are stored per snapshot.
//
// Emergence dates are retrospective: an update re-dates a feature's history
// as the crosscoder refines it, and a snapshot's share of emergences settles
// only once later snapshots exist (a feature's dates move most while its
// own emergence is the newest snapshot). The daemon reads snapshot t's
// values from the analysis after a later update (MonitorOptions::
// population_lag).
#ifndef CW_ANALYSIS_FEATURE_POPULATION_H_
#define CW_ANALYSIS_FEATURE_POPULATION_H_

#include <cstddef>
#include <vector>

#include "analysis/feature_analysis.h"

namespace cw {

struct PopulationSeries {
  // Per snapshot, shares of the live features (those that fire on the probe
  // set at some snapshot), so that one floor fits every dictionary size.
  std::vector<double> emergence_share;  // whose first emergence is dated at this snapshot
  std::vector<double> fading_share;     // that fade at this snapshot
  // Share of the snapshot's feature activity (Σ frequency × mean activation
  // × decoder norm over features) carried by features whose first
  // emergence is dated at this snapshot.
  std::vector<double> new_mass_share;
  // |present(t) Δ present(t−1)| / |present(t) ∪ present(t−1)|; 0 at t = 0.
  std::vector<double> turnover;
  // Share of live features whose normalised decoder norm crosses the
  // emergence threshold more than once over the snapshots (up then down, or
  // down then up): a trajectory that flickers rather than switching once.
  double flicker = 0;
  std::size_t live = 0;
  std::size_t flickering = 0;
  // Share of live features the emergence detector reports back after a fade
  // (a kReEmerged event: on, off and on again with its hysteresis): the
  // flicker in what is claimed. `flicker` also counts an emergence followed
  // by a fade (two crossings) and wobbles around the threshold that the
  // hysteresis absorbs.
  double returned_share = 0;
  std::size_t returned = 0;
};

PopulationSeries population_series(const FeatureAnalysis& analysis, double threshold);

// How many times `values` crosses `threshold` (a value >= threshold after
// one below it, or below after one at or above).
std::size_t threshold_crossings(const std::vector<double>& values, double threshold);

}  // namespace cw

#endif  // CW_ANALYSIS_FEATURE_POPULATION_H_
