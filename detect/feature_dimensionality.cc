#include "detect/feature_dimensionality.h"

#include <cmath>
#include <stdexcept>
#include <string>

namespace cw {

std::vector<double> feature_dimensionalities(const std::vector<float>& decoder, int64_t n_features, int64_t d_model) {
  if (n_features < 0 || d_model <= 0 || int64_t(decoder.size()) != n_features * d_model)
    throw std::invalid_argument("feature_dimensionalities: decoder has " + std::to_string(decoder.size()) +
                                " values, not " + std::to_string(n_features) + " features x d_model " +
                                std::to_string(d_model));
  const auto d = std::size_t(d_model);
  // Σ_j (Ŵ_i · W_j)² = Ŵ_iᵀ G Ŵ_i with G = Σ_j W_j W_jᵀ: d² per feature
  // instead of one dot product per pair (a dictionary holds 8 × d_model).
  std::vector<double> gram(d * d, 0.0);
  for (int64_t j = 0; j < n_features; ++j) {
    const float* w = &decoder[std::size_t(j) * d];
    for (std::size_t a = 0; a < d; ++a) {
      if (w[a] == 0) continue;
      double* row = &gram[a * d];
      for (std::size_t b = 0; b < d; ++b) row[b] += double(w[a]) * w[b];
    }
  }
  std::vector<double> out(std::size_t(n_features), 0.0);
  std::vector<double> g_w(d);
  for (int64_t i = 0; i < n_features; ++i) {
    const float* w = &decoder[std::size_t(i) * d];
    double norm_sq = 0;
    for (std::size_t a = 0; a < d; ++a) norm_sq += double(w[a]) * w[a];
    if (!(norm_sq > 0)) continue;
    double quad = 0;  // W_iᵀ G W_i = ‖W_i‖² Σ_j (Ŵ_i · W_j)²
    for (std::size_t a = 0; a < d; ++a) {
      double row = 0;
      for (std::size_t b = 0; b < d; ++b) row += gram[a * d + b] * w[b];
      quad += double(w[a]) * row;
    }
    out[std::size_t(i)] = quad > 0 ? norm_sq * norm_sq / quad : 0.0;
  }
  return out;
}

double feature_dimensionality_rate(const std::vector<float>& decoder, int64_t n_features, int64_t d_model) {
  double sum = 0;
  for (double value : feature_dimensionalities(decoder, n_features, d_model)) sum += value;
  return sum / double(d_model);
}

}  // namespace cw
