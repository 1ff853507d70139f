#include "bench/common/sample_stats.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace cw::bench {

double percentile(std::vector<double> samples, double q) {
  if (samples.empty()) throw std::invalid_argument("percentile of no samples");
  std::sort(samples.begin(), samples.end());
  const double rank = std::ceil(q * double(samples.size()));
  const std::size_t index = rank < 1 ? 0 : std::min(samples.size() - 1, std::size_t(rank) - 1);
  return samples[index];
}

double maximum(const std::vector<double>& samples) {
  if (samples.empty()) throw std::invalid_argument("maximum of no samples");
  return *std::max_element(samples.begin(), samples.end());
}

}  // namespace cw::bench
