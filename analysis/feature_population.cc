#include "analysis/feature_population.h"

namespace cw {

std::size_t threshold_crossings(const std::vector<double>& values, double threshold) {
  std::size_t crossings = 0;
  for (std::size_t t = 1; t < values.size(); ++t)
    crossings += (values[t] >= threshold) != (values[t - 1] >= threshold);
  return crossings;
}

PopulationSeries population_series(const FeatureAnalysis& analysis, double threshold) {
  const std::size_t n_snap = analysis.aggregates.size();
  PopulationSeries out;
  out.emergence_share.assign(n_snap, 0.0);
  out.fading_share.assign(n_snap, 0.0);
  out.new_mass_share.assign(n_snap, 0.0);
  out.turnover.assign(n_snap, 0.0);
  std::vector<double> mass(n_snap, 0.0), new_mass(n_snap, 0.0);
  std::vector<double> changed(n_snap, 0.0), either(n_snap, 0.0);
  std::vector<double> norm(n_snap);
  for (std::size_t f = 0; f < analysis.trajectories.size(); ++f) {
    if (!analysis.live[f]) continue;
    ++out.live;
    const auto& points = analysis.trajectories[f].points;
    std::size_t emerged = n_snap;  // first emergence
    bool returned = false;
    for (const auto& event : analysis.events[f]) {
      returned = returned || event.kind == FeatureEventKind::kReEmerged;
      if (event.kind == FeatureEventKind::kEmerged && emerged == n_snap) emerged = event.snapshot;
      if (event.kind == FeatureEventKind::kFaded) out.fading_share[event.snapshot] += 1;
    }
    if (emerged < n_snap) out.emergence_share[emerged] += 1;
    for (std::size_t t = 0; t < n_snap; ++t) {
      const auto& p = points[t];
      norm[t] = p.normalised_norm;
      const double m = double(p.frequency) * p.mean_activation * p.decoder_norm;
      mass[t] += m;
      if (t == emerged) new_mass[t] += m;
      const bool now = p.normalised_norm >= threshold && p.frequency > 0;
      const bool before = t > 0 && points[t - 1].normalised_norm >= threshold && points[t - 1].frequency > 0;
      changed[t] += t > 0 && now != before;
      either[t] += t > 0 && (now || before);
    }
    out.flickering += threshold_crossings(norm, threshold) > 1;
    out.returned += returned;
  }
  const double live = double(out.live);
  for (std::size_t t = 0; t < n_snap; ++t) {
    if (live > 0) out.emergence_share[t] /= live, out.fading_share[t] /= live;
    out.new_mass_share[t] = mass[t] > 0 ? new_mass[t] / mass[t] : 0.0;
    out.turnover[t] = either[t] > 0 ? changed[t] / either[t] : 0.0;
  }
  out.flicker = live > 0 ? double(out.flickering) / live : 0.0;
  out.returned_share = live > 0 ? double(out.returned) / live : 0.0;
  return out;
}

}  // namespace cw
