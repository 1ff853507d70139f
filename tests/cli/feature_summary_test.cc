// What `features` and `feature N` say about an emergence the decoder norm
// saw late: with [emergence] activation_dates, dated where the activations
// switched on, with that evidence; without, strengthened.
#include "query/feature_summary.h"

#include <gtest/gtest.h>

#include <vector>

namespace cw {
namespace {

// Atom 11 of quiet-then-mass/d48/k80/t9/s61 (refined): the latent matching
// it holds it from snapshot 6, the activations from its onset at 3.
FeatureTrajectory taken_over_late() {
  const std::vector<float> norm = {0.00f, 0.01f, 0.00f, 0.01f, 0.00f, 0.02f, 1.00f, 0.93f, 0.87f};
  const std::vector<float> strength = {0.03f, 0.01f, 0.00f, 1.32f, 1.19f, 1.09f, 1.00f, 0.93f, 0.87f};
  FeatureTrajectory trajectory;
  trajectory.feature = 187;
  for (std::size_t t = 0; t < norm.size(); ++t) {
    FeaturePoint point;
    point.step = 100 * t;
    point.normalised_norm = norm[t];
    point.decoder_norm = norm[t];
    point.activation_strength = strength[t];
    point.frequency = t >= 6 ? 0.033f : 0.0f;
    trajectory.points.push_back(point);
  }
  return trajectory;
}

TEST(FeatureSummary, AnEmergenceTheActivationsDateEarlierIsShownAtTheirStep) {
  EmergenceOptions by_activations;
  by_activations.activation_dates = true;
  const nlohmann::json dated = summarise_feature(taken_over_late(), by_activations, nullptr).json;
  EXPECT_EQ(dated["emerged_step"], 300);
  EXPECT_TRUE(dated["strengthened_step"].is_null());
  EXPECT_EQ(dated["emergence_evidence"]["verdict"], "earlier");
  EXPECT_EQ(dated["emergence_evidence"]["step"], 300);
  EXPECT_FLOAT_EQ(dated["emergence_evidence"]["activation_strength_at"].get<float>(), 1.32f);

  // Off (the default): the emergence the norm saw, contradicted.
  const nlohmann::json strengthened = summarise_feature(taken_over_late(), EmergenceOptions{}, nullptr).json;
  EXPECT_TRUE(strengthened["emerged_step"].is_null());
  EXPECT_EQ(strengthened["strengthened_step"], 600);
  EXPECT_EQ(strengthened["emergence_evidence"]["verdict"], "contradicted");
}

}  // namespace
}  // namespace cw
