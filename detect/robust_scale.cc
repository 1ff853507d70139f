#include "detect/robust_scale.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace cw {

double median(std::vector<double> values) {
  if (values.empty()) throw std::invalid_argument("median of an empty series");
  const size_t mid = values.size() / 2;
  std::nth_element(values.begin(), values.begin() + mid, values.end());
  const double upper = values[mid];
  if (values.size() % 2 == 1) return upper;
  const double lower = *std::max_element(values.begin(), values.begin() + mid);
  return 0.5 * (lower + upper);
}

double robust_noise_scale(const std::vector<double>& values, double min_scale) {
  const double level = median(values);
  // Keeps a constant series (or exact integer counts) from producing a zero
  // scale, which would turn any later wobble into an infinite z-score.
  const double floor = std::max(min_scale, 1e-9 * std::max(1.0, std::fabs(level)));
  if (values.size() < 3) return floor;
  std::vector<double> diffs(values.size() - 1);
  for (size_t i = 1; i < values.size(); ++i) diffs[i - 1] = values[i] - values[i - 1];
  const double centre = median(diffs);
  for (double& d : diffs) d = std::fabs(d - centre);
  // 1.4826 makes the MAD consistent for a Normal; a difference of two
  // independent draws has sqrt(2) times the noise's standard deviation.
  const double scale = 1.4826 * median(diffs) / std::sqrt(2.0);
  return std::max(scale, floor);
}

}  // namespace cw
