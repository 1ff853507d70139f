#include "analysis/feature_population.h"

#include <gtest/gtest.h>

#include <vector>

#include "made_up_analysis.h"

namespace cw {
namespace {

TEST(FeaturePopulation, CountsEmergencesFadesTurnoverAndFlicker) {
  const auto analysis = analysis_of({{1, 1, 1, 1},           // present throughout
                                     {0.1f, 0.1f, 1, 1},     // emerges at 2
                                     {0, 0.2f, 0.9f, 1},     // emerges at 2
                                     {1, 0.1f, 1, 0.1f},     // flickers: faded at 1, back at 2, faded at 3
                                     {1, 1, 1, 1}},          // dead: never fires
                                    {false, false, false, false, true});
  const PopulationSeries p = population_series(analysis, 0.5);
  ASSERT_EQ(p.live, 4u);
  EXPECT_EQ(p.emergence_share, (std::vector<double>{0, 0, 0.5, 0}));  // re-emergence is not a first emergence
  EXPECT_EQ(p.fading_share, (std::vector<double>{0, 0.25, 0, 0.25}));
  // Present at 0: {0, 3}; 1: {0}; 2: {0, 1, 2, 3}; 3: {0, 1, 2}.
  EXPECT_DOUBLE_EQ(p.turnover[0], 0);
  EXPECT_DOUBLE_EQ(p.turnover[1], 0.5);
  EXPECT_DOUBLE_EQ(p.turnover[2], 0.75);
  EXPECT_DOUBLE_EQ(p.turnover[3], 0.25);
  // Activity at 2: 0.1 × (1 + 1 + 0.9 + 1); the two new features carry 1.9 of 3.9.
  EXPECT_NEAR(p.new_mass_share[2], 1.9 / 3.9, 1e-6);
  EXPECT_EQ(p.new_mass_share[1], 0);
  EXPECT_EQ(p.flickering, 1u);
  EXPECT_DOUBLE_EQ(p.flicker, 0.25);
  EXPECT_EQ(p.returned, 1u);  // the detector's claim: back at 2 after its fade at 1
  EXPECT_DOUBLE_EQ(p.returned_share, 0.25);
}

TEST(FeaturePopulation, ThresholdCrossingsCountEverySwitch) {
  EXPECT_EQ(threshold_crossings({0.1, 0.2, 0.6, 1.0}, 0.5), 1u);  // emerges once: no flicker
  EXPECT_EQ(threshold_crossings({1.0, 0.8, 0.2, 0.1}, 0.5), 1u);  // fades once
  EXPECT_EQ(threshold_crossings({0.1, 0.6, 0.4, 0.6}, 0.5), 3u);  // wobbles across: flickers
  EXPECT_EQ(threshold_crossings({}, 0.5), 0u);
}

}  // namespace
}  // namespace cw
