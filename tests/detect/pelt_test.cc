#include "detect/pelt.h"

#include <gtest/gtest.h>

#include <cmath>
#include <stdexcept>
#include <vector>

#include "tests/detect/synthetic_series.h"

namespace cw {
namespace {

using cw::testing::noise;
using cw::testing::steps;

TEST(Pelt, FindsTheKnownMeanChangesOfAMultiSegmentSeries) {
  for (unsigned seed = 1; seed <= 10; ++seed) {
    const std::vector<double> values =
        steps(200, {0, 40, 75, 130, 160}, {0, 3, -1, 2.5, 6}, 1.0, seed);
    const PeltResult r = pelt(values);
    ASSERT_EQ(r.change_points.size(), 4u) << "seed " << seed;
    const size_t truth[] = {40, 75, 130, 160};
    for (size_t i = 0; i < 4; ++i)
      EXPECT_NEAR(static_cast<double>(r.change_points[i]), static_cast<double>(truth[i]), 2.0) << "seed " << seed;
    ASSERT_EQ(r.segments.size(), 5u);
    EXPECT_NEAR(r.segments[4].mean, 6.0, 0.6);
  }
}

TEST(Pelt, StationaryNoiseIsOneSegment) {
  for (unsigned seed = 1; seed <= 10; ++seed)
    EXPECT_TRUE(pelt(noise(150, 2.0, 40 + seed)).change_points.empty()) << "seed " << seed;
}

TEST(Pelt, IsScaleFreeAndHonoursMinimumSegmentLength) {
  std::vector<double> values = steps(80, {0, 50}, {1000, 1040}, 10.0, 3);
  EXPECT_EQ(pelt(values).change_points, std::vector<size_t>{50});
  // Two close changes: with a minimum length of 6 the short middle segment
  // cannot exist, and every segment honours the minimum.
  for (size_t i = 20; i < 23; ++i) values[i] += 100;
  PeltOptions options;
  options.min_segment_length = 6;
  const PeltResult r = pelt(values, options);
  for (const PeltSegment& s : r.segments) EXPECT_GE(s.end - s.begin, 6u);
  EXPECT_EQ(r.change_points.back(), 50u);
  EXPECT_EQ(pelt(values).change_points, (std::vector<size_t>{20, 23, 50}));
}

TEST(Pelt, MeanVarianceCostSeesAVarianceChange) {
  std::vector<double> values = noise(120, 1.0, 8);
  for (size_t i = 60; i < values.size(); ++i) values[i] *= 6;
  PeltOptions options;
  options.cost = PeltCost::kMeanVariance;
  const PeltResult r = pelt(values, options);
  ASSERT_EQ(r.change_points.size(), 1u);
  EXPECT_NEAR(static_cast<double>(r.change_points[0]), 60.0, 3.0);
}

TEST(Pelt, ShortAndBadInput) {
  EXPECT_TRUE(pelt({}).segments.empty());
  EXPECT_EQ(pelt({1.0}).segments.size(), 1u);
  EXPECT_THROW(pelt({1.0, std::nan("")}), std::invalid_argument);
}

}  // namespace
}  // namespace cw
