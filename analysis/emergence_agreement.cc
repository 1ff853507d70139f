#include "analysis/emergence_agreement.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <tuple>
#include <utility>

namespace cw {
namespace {

// Rows scaled to unit length (a zero row stays zero and matches nothing).
std::vector<double> unit_rows(const std::vector<float>& rows, std::size_t d) {
  std::vector<double> out(rows.begin(), rows.end());
  for (std::size_t i = 0; i * d < out.size(); ++i) {
    double norm = 0;
    for (std::size_t k = 0; k < d; ++k) norm += out[i * d + k] * out[i * d + k];
    norm = std::sqrt(norm);
    for (std::size_t k = 0; k < d; ++k) out[i * d + k] = norm > 0 ? out[i * d + k] / norm : 0.0;
  }
  return out;
}

// Both never present, or present within `tolerance` snapshots of each other.
bool dates_agree(const std::optional<std::size_t>& x, const std::optional<std::size_t>& y, std::size_t tolerance) {
  if (!x || !y) return !x && !y;
  return (*x > *y ? *x - *y : *y - *x) <= tolerance;
}

}  // namespace

std::optional<std::size_t> first_presence(const FeatureTrajectory& trajectory, const std::vector<FeatureEvent>& events,
                                          double threshold) {
  if (!trajectory.points.empty() && trajectory.points.front().normalised_norm >= threshold) return 0;
  for (const auto& event : events) {
    if (event.kind == FeatureEventKind::kEmerged || event.kind == FeatureEventKind::kStrengthened)
      return event.snapshot;
  }
  return std::nullopt;
}

std::optional<std::size_t> claimed_emergence(const FeatureTrajectory& trajectory,
                                             const std::vector<FeatureEvent>& events, double threshold) {
  std::optional<std::size_t> latest;
  for (const auto& event : events) {
    if (event.kind == FeatureEventKind::kEmerged || event.kind == FeatureEventKind::kReEmerged) latest = event.snapshot;
  }
  return latest ? latest : first_presence(trajectory, events, threshold);
}

EmergenceAgreement emergence_agreement(const AgreementSide& first, const AgreementSide& second,
                                       const AgreementOptions& options) {
  const FeatureAnalysis& a = *first.analysis;
  const FeatureAnalysis& b = *second.analysis;
  const std::size_t fa = a.trajectories.size(), fb = b.trajectories.size();
  if (a.aggregates.size() != b.aggregates.size())
    throw std::invalid_argument("emergence_agreement: the crosscoders hold different numbers of snapshots");
  if (fa == 0 || fb == 0) return {};
  const std::size_t d = first.decoder->size() / fa;
  if (d == 0 || first.decoder->size() != fa * d || second.decoder->size() != fb * d)
    throw std::invalid_argument("emergence_agreement: decoder rows do not match the feature counts and d_model");
  const std::vector<double> ua = unit_rows(*first.decoder, d), ub = unit_rows(*second.decoder, d);
  EmergenceAgreement out;
  // best[i]: the match of first's feature i (fb when none), by cosine.
  std::vector<std::size_t> best(fa, fb);
  std::vector<double> best_cosine(fa, -2);
  std::vector<std::tuple<double, std::size_t, std::size_t>> pairs;  // one to one: (cosine, i, j) at min_cosine
  for (std::size_t i = 0; i < fa; ++i) {
    if (!a.live[i]) continue;
    ++out.live;
    for (std::size_t j = 0; j < fb; ++j) {
      if (!b.live[j]) continue;
      double dot = 0;
      for (std::size_t k = 0; k < d; ++k) dot += ua[i * d + k] * ub[j * d + k];
      if (dot < options.min_cosine) continue;
      if (options.one_to_one) {
        pairs.emplace_back(dot, i, j);
      } else if (dot > best_cosine[i]) {
        best_cosine[i] = dot, best[i] = j;
      }
    }
  }
  // Closest first; ties by feature index, so the matching is the same on every platform.
  std::sort(pairs.begin(), pairs.end(), [](const auto& x, const auto& y) {
    if (std::get<0>(x) != std::get<0>(y)) return std::get<0>(x) > std::get<0>(y);
    return std::make_pair(std::get<1>(x), std::get<2>(x)) < std::make_pair(std::get<1>(y), std::get<2>(y));
  });
  std::vector<bool> taken(fb, false);
  for (const auto& [cosine, i, j] : pairs) {
    if (best[i] != fb || taken[j]) continue;
    best[i] = j, best_cosine[i] = cosine, taken[j] = true;
  }
  for (std::size_t i = 0; i < fa; ++i) {
    if (best[i] == fb) continue;
    const std::size_t best_j = best[i];
    MatchedFeature m;
    m.feature = uint32_t(i);
    m.other = uint32_t(best_j);
    m.cosine = best_cosine[i];
    m.first = first_presence(a.trajectories[i], a.events[i], options.threshold);
    m.other_first = first_presence(b.trajectories[best_j], b.events[best_j], options.threshold);
    m.agrees = dates_agree(m.first, m.other_first, options.tolerance);
    m.claimed = claimed_emergence(a.trajectories[i], a.events[i], options.threshold);
    m.other_claimed = claimed_emergence(b.trajectories[best_j], b.events[best_j], options.threshold);
    m.claims_agree = dates_agree(m.claimed, m.other_claimed, options.tolerance);
    out.agreeing += m.agrees;
    out.claims_agreeing += m.claims_agree;
    out.matched.push_back(m);
  }
  return out;
}

}  // namespace cw
