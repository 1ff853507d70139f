#include "analysis/emergence_agreement.h"

#include <cmath>
#include <stdexcept>

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

EmergenceAgreement emergence_agreement(const AgreementSide& first, const AgreementSide& second,
                                       const AgreementOptions& options) {
  const FeatureAnalysis& a = *first.analysis;
  const FeatureAnalysis& b = *second.analysis;
  const std::size_t fa = a.trajectories.size(), fb = b.trajectories.size();
  if (a.aggregates.size() != b.aggregates.size())
    throw std::invalid_argument("emergence_agreement: the crosscoders hold different numbers of snapshots");
  if (fa == 0 || fb == 0) return {};
  const std::size_t d = first.final_decoder->size() / fa;
  if (d == 0 || first.final_decoder->size() != fa * d || second.final_decoder->size() != fb * d)
    throw std::invalid_argument("emergence_agreement: decoder rows do not match the feature counts and d_model");
  const std::vector<double> ua = unit_rows(*first.final_decoder, d), ub = unit_rows(*second.final_decoder, d);
  EmergenceAgreement out;
  for (std::size_t i = 0; i < fa; ++i) {
    if (!a.live[i]) continue;
    ++out.live;
    const double* u = ua.data() + i * d;
    double best = -2;
    std::size_t best_j = 0;
    for (std::size_t j = 0; j < fb; ++j) {
      if (!b.live[j]) continue;
      const double* v = ub.data() + j * d;
      double dot = 0;
      for (std::size_t k = 0; k < d; ++k) dot += u[k] * v[k];
      if (dot > best) best = dot, best_j = j;
    }
    if (best < options.min_cosine) continue;
    MatchedFeature m;
    m.feature = uint32_t(i);
    m.other = uint32_t(best_j);
    m.cosine = best;
    m.first = first_presence(a.trajectories[i], a.events[i], options.threshold);
    m.other_first = first_presence(b.trajectories[best_j], b.events[best_j], options.threshold);
    if (!m.first || !m.other_first) {
      m.agrees = !m.first && !m.other_first;
    } else {
      const std::size_t x = *m.first, y = *m.other_first;
      m.agrees = (x > y ? x - y : y - x) <= options.tolerance;
    }
    out.agreeing += m.agrees;
    out.matched.push_back(m);
  }
  return out;
}

}  // namespace cw
