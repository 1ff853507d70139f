#include "observe/histogram.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace cw {

Histogram::Histogram(std::vector<double> upper_bounds)
    : upper_bounds_(std::move(upper_bounds)), counts_(upper_bounds_.size() + 1, 0) {
  for (std::size_t i = 0; i < upper_bounds_.size(); ++i) {
    if (!std::isfinite(upper_bounds_[i]) || (i > 0 && upper_bounds_[i] <= upper_bounds_[i - 1]))
      throw std::invalid_argument("histogram bounds must be finite and strictly increasing");
  }
}

void Histogram::observe(double value) {
  // le is inclusive: a value equal to a bound counts in that bound's bucket.
  const auto at = std::lower_bound(upper_bounds_.begin(), upper_bounds_.end(), value);
  ++counts_[std::size_t(at - upper_bounds_.begin())];
  sum_ += value;
  ++count_;
}

nlohmann::json Histogram::to_json() const {
  nlohmann::json le = nlohmann::json::array();
  for (double bound : upper_bounds_) le.push_back(bound);
  le.push_back("+Inf");
  std::vector<uint64_t> cumulative;
  uint64_t running = 0;
  for (uint64_t c : counts_) cumulative.push_back(running += c);
  return {{"le", le}, {"cumulative", cumulative}, {"sum", sum_}, {"count", count_}};
}

const std::vector<double>& update_seconds_bounds() {
  static const std::vector<double> bounds = {0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600};
  return bounds;
}

}  // namespace cw
