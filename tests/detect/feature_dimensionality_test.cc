#include "detect/feature_dimensionality.h"

#include <gtest/gtest.h>

#include <cmath>
#include <stdexcept>
#include <vector>

namespace cw {
namespace {

// Unit vectors at the given angles in the first two of d dimensions.
std::vector<float> planar(const std::vector<double>& angles, int64_t d, double norm = 1) {
  std::vector<float> w(angles.size() * std::size_t(d), 0.0f);
  for (std::size_t i = 0; i < angles.size(); ++i) {
    w[i * std::size_t(d)] = float(norm * std::cos(angles[i]));
    w[i * std::size_t(d) + 1] = float(norm * std::sin(angles[i]));
  }
  return w;
}

TEST(FeatureDimensionality, OrthogonalFeaturesHaveADimensionEach) {
  const int64_t d = 4;
  std::vector<float> w(d * d, 0.0f);
  for (int64_t i = 0; i < d; ++i) w[i * d + i] = float(i + 1);  // norms do not matter when orthogonal
  for (double value : feature_dimensionalities(w, d, d)) EXPECT_NEAR(value, 1.0, 1e-9);
  EXPECT_NEAR(feature_dimensionality_rate(w, d, d), 1.0, 1e-9);
}

TEST(FeatureDimensionality, AnAntipodalPairSharesOneDimension) {
  const double pi = std::acos(-1.0);
  const auto w = planar({0, pi}, 2);
  for (double value : feature_dimensionalities(w, 2, 2)) EXPECT_NEAR(value, 0.5, 1e-6);
  EXPECT_NEAR(feature_dimensionality_rate(w, 2, 2), 0.5, 1e-6);  // one of two dimensions used
}

TEST(FeatureDimensionality, APentagonInAPlaneHasTwoFifthsEach) {
  // Five features in superposition in two dimensions: a tight frame, so
  // Σ_j (Ŵ_i · W_j)² = 5/2 and D_i = 2/5; together they use the whole plane.
  const double pi = std::acos(-1.0);
  std::vector<double> angles;
  for (int k = 0; k < 5; ++k) angles.push_back(2 * pi * k / 5);
  const auto w = planar(angles, 8);
  for (double value : feature_dimensionalities(w, 5, 8)) EXPECT_NEAR(value, 0.4, 1e-6);
  EXPECT_NEAR(feature_dimensionality_rate(w, 5, 8), 2.0 / 8, 1e-6);
}

TEST(FeatureDimensionality, AWeakFeatureInsideAStrongOneCountsAlmostNothing) {
  std::vector<float> w = {1, 0, 0.1f, 0};  // W_2 = 0.1 W_1
  const auto dims = feature_dimensionalities(w, 2, 2);
  EXPECT_NEAR(dims[0], 1.0 / 1.01, 1e-6);
  EXPECT_NEAR(dims[1], 0.01 / 1.01, 1e-6);
}

TEST(FeatureDimensionality, SuperpositionCompressesTheRate) {
  // Eight unit features in d = 8: orthogonal uses every dimension; packed
  // as four antipodal pairs in four dimensions, half of them.
  const int64_t d = 8;
  std::vector<float> orthogonal(d * d, 0.0f), pairs(d * d, 0.0f);
  for (int64_t i = 0; i < d; ++i) {
    orthogonal[i * d + i] = 1;
    pairs[i * d + i / 2] = i % 2 ? -1.0f : 1.0f;
  }
  EXPECT_NEAR(feature_dimensionality_rate(orthogonal, d, d), 1.0, 1e-9);
  EXPECT_NEAR(feature_dimensionality_rate(pairs, d, d), 0.5, 1e-9);
}

TEST(FeatureDimensionality, ZeroRowsCountZeroAndBadSizesThrow) {
  const std::vector<float> w = {0, 0, 0, 1};
  const auto dims = feature_dimensionalities(w, 2, 2);
  EXPECT_EQ(dims[0], 0.0);
  EXPECT_NEAR(dims[1], 1.0, 1e-9);
  EXPECT_THROW(feature_dimensionalities(w, 3, 2), std::invalid_argument);
}

}  // namespace
}  // namespace cw
