#include "crosscoder/coactivation.h"

#include <algorithm>
#include <tuple>

namespace cw {

CoactivationGram::CoactivationGram(int64_t n_features) : n_features_(n_features), self_(n_features, 0.0) {}

void CoactivationGram::add_row(const int64_t* features, const float* values, int64_t n, int64_t T) {
  for (int64_t a = 0; a < n; ++a) {
    const float* va = values + a * T;
    double aa = 0;
    for (int64_t t = 0; t < T; ++t) aa += double(va[t]) * va[t];
    self_[features[a]] += aa;
    for (int64_t b = a + 1; b < n; ++b) {
      const float* vb = values + b * T;
      double ab = 0;
      for (int64_t t = 0; t < T; ++t) ab += double(va[t]) * vb[t];
      if (ab != 0) cross_[uint64_t(features[a]) * uint64_t(n_features_) + uint64_t(features[b])] += ab;
    }
  }
}

std::vector<CoactivationGram::Merge> CoactivationGram::redundant(double max_unexplained) const {
  // (unexplained, i, j): sorted, so the result does not depend on the hash
  // map's order (exact resume replays it).
  std::vector<std::tuple<double, int64_t, int64_t>> candidates;
  for (const auto& [key, ij] : cross_) {
    const int64_t i = int64_t(key / uint64_t(n_features_)), j = int64_t(key % uint64_t(n_features_));
    const double ii = self_[i], jj = self_[j];
    if (!(ii > 0 && jj > 0)) continue;
    const double unexplained = 1 - ij * ij / (ii * jj);
    if (unexplained <= max_unexplained) candidates.emplace_back(unexplained, i, j);
  }
  std::sort(candidates.begin(), candidates.end());
  // role: 0 free, 1 keeps (has absorbed), 2 absorbed.
  std::vector<char> role(n_features_, 0);
  std::vector<Merge> merges;
  for (const auto& [unexplained, i, j] : candidates) {
    if (role[i] == 2 || role[j] == 2 || (role[i] == 1 && role[j] == 1)) continue;
    const bool keep_i = role[i] == 1 || (role[j] != 1 && self_[i] >= self_[j]);
    Merge m;
    m.keep = keep_i ? i : j;
    m.absorb = keep_i ? j : i;
    m.ratio = cross_.at(uint64_t(i) * uint64_t(n_features_) + uint64_t(j)) / self_[m.keep];
    role[m.keep] = 1, role[m.absorb] = 2;
    merges.push_back(m);
  }
  return merges;
}

}  // namespace cw
