#include "detect/pelt.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>

#include "detect/robust_scale.h"

namespace cw {
namespace {

// Segment costs from prefix sums of the standardised values.
class SegmentCost {
 public:
  SegmentCost(const std::vector<double>& z, const PeltOptions& options)
      : options_(options), sum_(z.size() + 1, 0.0), sum_sq_(z.size() + 1, 0.0) {
    for (size_t i = 0; i < z.size(); ++i) {
      sum_[i + 1] = sum_[i] + z[i];
      sum_sq_[i + 1] = sum_sq_[i] + z[i] * z[i];
    }
  }

  double operator()(size_t begin, size_t end) const {
    const double m = static_cast<double>(end - begin);
    const double s = sum_[end] - sum_[begin];
    const double rss = std::max(0.0, sum_sq_[end] - sum_sq_[begin] - s * s / m);
    if (options_.cost == PeltCost::kMean) return rss;
    // Profile -2 log-likelihood with the variance constrained to >= floor: a
    // minimum over a parameter set, so splitting never raises it (what the
    // pruning needs), and a run of equal values costs no -infinity.
    const double floor = options_.variance_floor;
    if (rss >= m * floor) return m * (1 + std::log(rss / m));
    return rss / floor + m * std::log(floor);
  }

 private:
  const PeltOptions& options_;
  std::vector<double> sum_, sum_sq_;
};

}  // namespace

PeltResult pelt(const std::vector<double>& values, const PeltOptions& options) {
  if (options.min_segment_length == 0) throw std::invalid_argument("pelt: min_segment_length must be positive");
  if (!(options.variance_floor > 0)) throw std::invalid_argument("pelt: variance_floor must be positive");
  for (double v : values)
    if (!std::isfinite(v)) throw std::invalid_argument("pelt: values must be finite");

  const size_t n = values.size();
  PeltResult result;
  if (n == 0) return result;
  const bool mean_variance = options.cost == PeltCost::kMeanVariance;
  const size_t min_len = mean_variance ? std::max<size_t>(2, options.min_segment_length) : options.min_segment_length;
  const double log_n = std::log(std::max<double>(static_cast<double>(n), 2.0));
  result.penalty = options.penalty >= 0 ? options.penalty : (mean_variance ? 3.0 : 2.0) * log_n;

  const double location = median(values);
  const double scale = robust_noise_scale(values, options.min_scale);
  std::vector<double> z(n);
  for (size_t i = 0; i < n; ++i) z[i] = (values[i] - location) / scale;
  const SegmentCost cost(z, options);

  // best[t]: optimal penalised cost of z[0, t); last[t]: start of its last segment.
  const double inf = std::numeric_limits<double>::infinity();
  std::vector<double> best(n + 1, inf);
  std::vector<size_t> last(n + 1, 0);
  best[0] = -result.penalty;
  std::vector<size_t> candidates;
  std::vector<double> totals;
  for (size_t t = min_len; t <= n; ++t) {
    const size_t newest = t - min_len;  // a segment may start here once it can be min_len long
    if (best[newest] < inf) candidates.push_back(newest);
    totals.resize(candidates.size());
    for (size_t c = 0; c < candidates.size(); ++c) {
      totals[c] = best[candidates[c]] + cost(candidates[c], t) + result.penalty;
      if (totals[c] < best[t]) {
        best[t] = totals[c];
        last[t] = candidates[c];
      }
    }
    // Pruning: a start that cannot beat the optimum now never will
    // (the costs satisfy C(a,b) + C(b,c) <= C(a,c)).
    size_t kept = 0;
    for (size_t c = 0; c < candidates.size(); ++c)
      if (totals[c] - result.penalty <= best[t]) candidates[kept++] = candidates[c];
    candidates.resize(kept);
  }

  if (best[n] == inf) {  // too short to split at all
    result.segments.push_back({0, n, 0});
  } else {
    for (size_t end = n; end > 0; end = last[end]) result.segments.push_back({last[end], end, 0});
    std::reverse(result.segments.begin(), result.segments.end());
  }
  for (PeltSegment& s : result.segments) {
    double sum = 0;
    for (size_t i = s.begin; i < s.end; ++i) sum += values[i];
    s.mean = sum / static_cast<double>(s.end - s.begin);
    if (s.begin > 0) result.change_points.push_back(s.begin);
  }
  return result;
}

}  // namespace cw
