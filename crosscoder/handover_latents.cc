#include "crosscoder/handover_latents.h"

#include <algorithm>
#include <cmath>
#include <tuple>

#include "crosscoder/latent_levels.h"

namespace cw {

std::vector<Handover> handover_latents(const float* w_dec, int64_t T, int64_t F, int64_t d, double min_cosine) {
  if (T < 2) return {};
  std::vector<double> norm(T * F);
  for (int64_t t = 0; t < T; ++t)
    for (int64_t i = 0; i < F; ++i) {
      const float* row = w_dec + (t * F + i) * d;
      double sq = 0;
      for (int64_t k = 0; k < d; ++k) sq += double(row[k]) * row[k];
      norm[t * F + i] = std::sqrt(sq);
    }
  // Per latent: the last head at the on level (A ends there) and the first
  // head at or above the off level (B starts there).
  std::vector<int64_t> last_on(F, -1), first_present(F, -1), first_on(F, -1);
  std::vector<double> largest(F, 0.0);
  for (int64_t i = 0; i < F; ++i) {
    for (int64_t t = 0; t < T; ++t) largest[i] = std::max(largest[i], norm[t * F + i]);
    if (!(largest[i] > 0)) continue;
    for (int64_t t = 0; t < T; ++t) {
      const double level = norm[t * F + i] / largest[i];
      if (level >= kLatentOn) last_on[i] = t;
      if (level >= kLatentOn && first_on[i] < 0) first_on[i] = t;
      if (level >= kLatentOff && first_present[i] < 0) first_present[i] = t;
    }
  }
  std::vector<std::tuple<double, int64_t, int64_t, int64_t>> pairs;  // (−|cos|, to, from, at)
  for (int64_t at = 1; at < T; ++at) {
    std::vector<int64_t> from, to;
    for (int64_t i = 0; i < F; ++i) {
      if (last_on[i] == at - 1) from.push_back(i);
      if (first_present[i] == at && first_on[i] == at) to.push_back(i);
    }
    for (const int64_t b : to) {
      const float* rb = w_dec + (at * F + b) * d;
      for (const int64_t a : from) {
        // A's direction at any head where it is on, not only at at − 1: a
        // row of A's at a quiet snapshot can be blurred below the cosine
        // while its others hold the feature (docs/CROSSCODER.md
        // "Directions that turn at once").
        double c = 0;
        for (int64_t t = 0; t < at; ++t) {
          if (norm[t * F + a] < kLatentOn * largest[a]) continue;
          const float* ra = w_dec + (t * F + a) * d;
          double dot = 0;
          for (int64_t k = 0; k < d; ++k) dot += double(ra[k]) * rb[k];
          c = std::max(c, std::fabs(dot) / std::max(norm[t * F + a] * norm[at * F + b], 1e-300));
        }
        if (c >= min_cosine) pairs.emplace_back(-c, b, a, at);
      }
    }
  }
  std::sort(pairs.begin(), pairs.end());
  std::vector<char> used(F, 0);
  std::vector<Handover> out;
  for (const auto& [negative_cosine, b, a, at] : pairs) {
    if (used[a] || used[b]) continue;
    used[a] = used[b] = 1;
    out.push_back({a, b, at, -negative_cosine});
  }
  std::sort(out.begin(), out.end(), [](const Handover& x, const Handover& y) { return x.to < y.to; });
  return out;
}

}  // namespace cw
