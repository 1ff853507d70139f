#include "detect/bocpd.h"

#include <gtest/gtest.h>

#include <cmath>
#include <stdexcept>
#include <vector>

#include "tests/detect/synthetic_series.h"

namespace cw {
namespace {

using cw::testing::noise;
using cw::testing::steps;

std::vector<BocpdStep> run_bocpd(const std::vector<double>& values, BocpdOptions options = {}) {
  Bocpd bocpd(options);
  std::vector<BocpdStep> out;
  for (double v : values) out.push_back(bocpd.observe(v));
  return out;
}

std::vector<BocpdStep> alarms(const std::vector<BocpdStep>& steps) {
  std::vector<BocpdStep> out;
  for (const BocpdStep& s : steps)
    if (s.alarm) out.push_back(s);
  return out;
}

TEST(Bocpd, StepUpAlarmsSoonWithOnsetAtTheStep) {
  for (unsigned seed = 1; seed <= 10; ++seed) {
    const auto found = alarms(run_bocpd(steps(70, {0, 40}, {0, 4}, 1.0, seed)));
    ASSERT_EQ(found.size(), 1u) << "seed " << seed;
    EXPECT_GE(found[0].index, 40u) << "seed " << seed;
    EXPECT_LE(found[0].index, 43u) << "seed " << seed;
    EXPECT_NEAR(static_cast<double>(found[0].onset), 40.0, 1.0) << "seed " << seed;
  }
}

TEST(Bocpd, IndependentOfTheSeriesScaleAndOffset) {
  const std::vector<double> base = steps(60, {0, 25}, {0, -5}, 1.0, 3);
  std::vector<double> large, tiny;
  for (double v : base) {
    large.push_back(5e4 + 1e3 * v);
    tiny.push_back(1e-6 * v - 3e-6);
  }
  const auto a = alarms(run_bocpd(base)), b = alarms(run_bocpd(large)), c = alarms(run_bocpd(tiny));
  ASSERT_EQ(a.size(), 1u);
  ASSERT_EQ(b.size(), 1u);
  ASSERT_EQ(c.size(), 1u);
  EXPECT_EQ(a[0].index, b[0].index);
  EXPECT_EQ(a[0].index, c[0].index);
  EXPECT_NEAR(static_cast<double>(b[0].onset), 25.0, 1.0);
}

TEST(Bocpd, SeveralStepsEachAlarmOnce) {
  const auto found = alarms(run_bocpd(steps(120, {0, 30, 60, 90}, {0, 5, -1, 4}, 1.0, 5)));
  ASSERT_EQ(found.size(), 3u);
  EXPECT_NEAR(static_cast<double>(found[0].onset), 30.0, 1.0);
  EXPECT_NEAR(static_cast<double>(found[1].onset), 60.0, 1.0);
  EXPECT_NEAR(static_cast<double>(found[2].onset), 90.0, 1.0);
}

TEST(Bocpd, SlopeChangeAlarmsAfterTheKinkNotBefore) {
  for (unsigned seed = 1; seed <= 5; ++seed) {
    std::vector<double> values = noise(70, 1.0, seed);
    for (size_t i = 40; i < values.size(); ++i) values[i] += 0.6 * static_cast<double>(i - 40);
    const auto found = alarms(run_bocpd(values));
    ASSERT_GE(found.size(), 1u) << "seed " << seed;
    EXPECT_GE(found[0].index, 41u) << "seed " << seed;
    EXPECT_LE(found[0].index, 50u) << "seed " << seed;
    EXPECT_GE(found[0].onset, 39u) << "seed " << seed;
    EXPECT_LE(found[0].onset, 48u) << "seed " << seed;
  }
}

TEST(Bocpd, SingleOutliersDoNotAlarm) {
  for (unsigned seed = 1; seed <= 10; ++seed)
    for (double spike : {4.0, 6.0, -8.0, 20.0}) {
      std::vector<double> values = noise(60, 1.0, seed);
      values[30] += spike;
      EXPECT_TRUE(alarms(run_bocpd(values)).empty()) << "seed " << seed << " spike " << spike;
    }
}

TEST(Bocpd, AFewSpreadSpikesDoNotAlarm) {
  for (unsigned seed = 1; seed <= 10; ++seed) {
    std::vector<double> values = noise(80, 1.0, seed);
    values[15] += 6;
    values[32] -= 5;
    values[50] += 9;
    values[66] += 5;
    EXPECT_TRUE(alarms(run_bocpd(values)).empty()) << "seed " << seed;
  }
}

TEST(Bocpd, StationaryNoiseDoesNotAlarm) {
  for (unsigned seed = 100; seed < 120; ++seed)
    EXPECT_TRUE(alarms(run_bocpd(noise(100, 1.0, seed))).empty()) << "seed " << seed;
}

TEST(Bocpd, ConstantSeriesWithMinScaleIgnoresUnitWobbles) {
  // A count that sits still and moves by 1 now and then, then jumps by 40.
  std::vector<double> counts(60, 100.0);
  counts[20] = counts[21] = 101;
  for (size_t i = 40; i < counts.size(); ++i) counts[i] = 140;
  BocpdOptions options;
  options.min_scale = 1;
  const auto found = alarms(run_bocpd(counts, options));
  ASSERT_EQ(found.size(), 1u);
  EXPECT_NEAR(static_cast<double>(found[0].onset), 40.0, 1.0);
}

TEST(Bocpd, ReportsWarmupThenRunLengthsAndKeepsMemoryBounded) {
  BocpdOptions options;
  options.max_hypotheses = 50;
  Bocpd bocpd(options);
  const std::vector<double> values = steps(1500, {0, 1000}, {0, 6}, 1.0, 9);
  size_t alarm_count = 0;
  for (size_t i = 0; i < values.size(); ++i) {
    const BocpdStep step = bocpd.observe(values[i]);
    EXPECT_EQ(step.index, i);
    EXPECT_EQ(step.ready, i + 1 >= options.warmup);
    EXPECT_LE(bocpd.hypotheses(), 50u);
    alarm_count += step.alarm;
    if (i == 999) {
      EXPECT_GT(step.run_length, 900u);
      EXPECT_EQ(step.onset, 0u);
    }
    if (i == 1499) { EXPECT_NEAR(static_cast<double>(step.onset), 1000.0, 1.0); }
  }
  EXPECT_EQ(alarm_count, 1u);
}

TEST(Bocpd, RefusesBadInput) {
  BocpdOptions bad;
  bad.hazard = 0;
  EXPECT_THROW(Bocpd{bad}, std::invalid_argument);
  Bocpd bocpd;
  EXPECT_THROW(bocpd.observe(std::nan("")), std::invalid_argument);
}

}  // namespace
}  // namespace cw
