#include "analysis/feature_analysis.h"

#include <algorithm>
#include <cmath>

namespace cw {

FeatureAnalysis analyse_features(const FeatureStats& stats, const std::vector<uint64_t>& steps,
                                 const EmergenceOptions& options) {
  const std::size_t n_snap = steps.size();
  const std::size_t n_features = n_snap == 0 ? 0 : stats.decoder_norm.size() / n_snap;
  FeatureAnalysis out;
  out.trajectories.resize(n_features);
  out.events.resize(n_features);
  out.live.assign(n_features, false);
  out.aggregates.resize(n_snap);
  for (std::size_t t = 0; t < n_snap; ++t) out.aggregates[t].step = steps[t];

  std::vector<double> norm(n_snap), frequency(n_snap), strength(n_snap);
  std::vector<double> direction_change(n_snap, 0.0);
  std::vector<int> present_count(n_snap, 0);
  for (std::size_t f = 0; f < n_features; ++f) {
    auto at = [&](const std::vector<float>& values, std::size_t t) { return values[t * n_features + f]; };
    double max_norm = 0;
    bool fires = false;
    for (std::size_t t = 0; t < n_snap; ++t) {
      max_norm = std::max(max_norm, double(at(stats.decoder_norm, t)));
      fires = fires || at(stats.frequency, t) > 0;
    }
    FeatureTrajectory& trajectory = out.trajectories[f];
    trajectory.feature = uint32_t(f);
    trajectory.points.resize(n_snap);
    for (std::size_t t = 0; t < n_snap; ++t) {
      FeaturePoint& point = trajectory.points[t];
      point.step = steps[t];
      point.decoder_norm = at(stats.decoder_norm, t);
      point.normalised_norm = max_norm > 0 ? float(point.decoder_norm / max_norm) : 0.0f;
      point.frequency = at(stats.frequency, t);
      point.mean_activation = at(stats.mean_activation, t);
      point.max_activation = at(stats.max_activation, t);
      point.cos_previous = at(stats.cos_previous, t);
      point.cos_latest = at(stats.cos_latest, t);
      point.contextuality = t + 1 == n_snap && f < stats.contextuality.size() ? stats.contextuality[f] : NAN;
      point.activation_strength = stats.activation_strength.empty() ? NAN : at(stats.activation_strength, t);
      norm[t] = point.normalised_norm;
      frequency[t] = point.frequency;
      strength[t] = point.activation_strength;
    }
    for (int64_t k = 0; k < stats.top_k; ++k) {
      const float activation = stats.top_activations[f * stats.top_k + k];
      if (activation > 0) trajectory.top_contexts.push_back({stats.top_rows[f * stats.top_k + k], activation});
    }
    out.live[f] = fires;
    if (!fires) continue;
    out.events[f] = detect_feature_events(norm, stats.activation_strength.empty() ? std::vector<double>{} : strength, options);

    // Aggregates: present = above threshold and firing at that snapshot.
    for (std::size_t t = 0; t < n_snap; ++t) {
      if (norm[t] >= options.threshold && frequency[t] > 0) {
        out.aggregates[t].features_alive += 1;
        ++present_count[t];
        direction_change[t] += 1.0 - trajectory.points[t].cos_previous;
      }
    }
    for (const auto& event : out.events[f]) {
      if (event.kind == FeatureEventKind::kEmerged || event.kind == FeatureEventKind::kReEmerged) {
        out.aggregates[event.snapshot].features_emerging += 1;
      }
    }
  }
  for (std::size_t t = 0; t < n_snap; ++t) {
    if (present_count[t] > 0) out.aggregates[t].mean_direction_change = direction_change[t] / present_count[t];
    if (n_features > 0) out.aggregates[t].features_alive_share = out.aggregates[t].features_alive / double(n_features);
  }
  return out;
}

}  // namespace cw
