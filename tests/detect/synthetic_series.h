// Seeded synthetic series for the detector tests: piecewise levels and
// slopes plus Gaussian noise, and spikes at chosen positions.
#ifndef CW_TESTS_DETECT_SYNTHETIC_SERIES_H_
#define CW_TESTS_DETECT_SYNTHETIC_SERIES_H_

#include <cstddef>
#include <random>
#include <vector>

namespace cw::testing {

// `n` draws of Normal(0, sd) from a fixed seed.
inline std::vector<double> noise(size_t n, double sd, unsigned seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<double> normal(0.0, sd);
  std::vector<double> out(n);
  for (double& v : out) v = normal(rng);
  return out;
}

// Noise around a level that jumps to levels[i] at starts[i] (starts[0] == 0).
inline std::vector<double> steps(size_t n, const std::vector<size_t>& starts, const std::vector<double>& levels,
                                 double sd, unsigned seed) {
  std::vector<double> out = noise(n, sd, seed);
  for (size_t i = 0; i < n; ++i) {
    size_t segment = 0;
    while (segment + 1 < starts.size() && i >= starts[segment + 1]) ++segment;
    out[i] += levels[segment];
  }
  return out;
}

}  // namespace cw::testing

#endif  // CW_TESTS_DETECT_SYNTHETIC_SERIES_H_
