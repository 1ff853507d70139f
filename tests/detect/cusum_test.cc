#include "detect/cusum.h"

#include <gtest/gtest.h>

#include <stdexcept>
#include <vector>

#include "tests/detect/synthetic_series.h"

namespace cw {
namespace {

using cw::testing::noise;
using cw::testing::steps;

std::vector<CusumStep> cusum_alarms(const std::vector<double>& values, CusumOptions options = {}) {
  Cusum cusum(options);
  std::vector<CusumStep> out;
  for (double v : values) {
    const CusumStep step = cusum.observe(v);
    if (step.alarm) out.push_back(step);
  }
  return out;
}

TEST(Cusum, StepUpAlarmsWithinFewValuesAndOnsetAtTheStep) {
  for (unsigned seed = 1; seed <= 10; ++seed) {
    const auto found = cusum_alarms(steps(70, {0, 40}, {0, 4}, 1.0, seed));
    ASSERT_GE(found.size(), 1u) << "seed " << seed;
    EXPECT_GE(found[0].index, 40u) << "seed " << seed;
    EXPECT_LE(found[0].index, 43u) << "seed " << seed;
    EXPECT_NEAR(static_cast<double>(found[0].onset), 40.0, 1.0) << "seed " << seed;
    EXPECT_EQ(found[0].direction, +1);
    // The reference moved to the new level: no further alarm on it.
    EXPECT_EQ(found.size(), 1u) << "seed " << seed;
  }
}

TEST(Cusum, DirectionsAreConfigurable) {
  const std::vector<double> down = steps(60, {0, 30}, {10, 6}, 1.0, 4);
  CusumOptions up_only;
  up_only.direction = CusumDirection::kUp;
  EXPECT_TRUE(cusum_alarms(down, up_only).empty());
  const auto found = cusum_alarms(down);
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(found[0].direction, -1);
  EXPECT_NEAR(static_cast<double>(found[0].onset), 30.0, 1.0);
}

TEST(Cusum, SlopeChangeAlarmsSoonAfterTheKink) {
  std::vector<double> values = noise(70, 1.0, 6);
  for (size_t i = 40; i < values.size(); ++i) values[i] += 0.6 * static_cast<double>(i - 40);
  const auto found = cusum_alarms(values);
  ASSERT_GE(found.size(), 2u);  // a level that keeps moving alarms again
  EXPECT_GE(found[0].index, 41u);
  EXPECT_LE(found[0].index, 48u);
  EXPECT_GE(found[0].onset, 39u);
  EXPECT_LE(found[0].onset, 46u);
  for (const CusumStep& s : found) EXPECT_EQ(s.direction, +1);
}

TEST(Cusum, SingleOutliersAddNoAlarmsAndStationaryNoiseAlmostNone) {
  // Measured with these defaults: ~2e-4 false alarms per stationary value
  // (8 in 40,000), so 2,000 values should give at most one.
  size_t stationary = 0, spiky = 0;
  for (unsigned seed = 1; seed <= 20; ++seed) {
    std::vector<double> values = noise(100, 1.0, 500 + seed);
    stationary += cusum_alarms(values).size();
    values[50] += 10;
    values[75] -= 7;
    spiky += cusum_alarms(values).size();
  }
  EXPECT_LE(stationary, 1u);
  EXPECT_EQ(spiky, stationary);  // the spikes themselves never alarm
}

TEST(Cusum, RefusesBadOptions) {
  CusumOptions bad;
  bad.clip = 0.5;  // below the drift: nothing could ever accumulate
  EXPECT_THROW(Cusum{bad}, std::invalid_argument);
}

}  // namespace
}  // namespace cw
