// What `features` and `feature N` say about an emergence the decoder norm
// saw late (with [emergence] activation_dates, dated where the activations
// switched on; without, strengthened) and about a direction of one snapshot.
#include "query/feature_summary.h"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

namespace cw {
namespace {

// Steps 0, 100, 200, ...; firing (a quarter of the probe tokens) where the
// normalised norm is over 0.5.
FeatureTrajectory trajectory_of(const std::vector<float>& norm, const std::vector<float>& strength) {
  FeatureTrajectory trajectory;
  for (std::size_t t = 0; t < norm.size(); ++t) {
    FeaturePoint point;
    point.step = 100 * t;
    point.normalised_norm = norm[t];
    point.decoder_norm = norm[t];
    point.activation_strength = strength[t];
    point.frequency = norm[t] > 0.5f ? 0.26f : 0.0f;
    point.cos_previous = 1;  // one direction throughout
    trajectory.points.push_back(point);
  }
  return trajectory;
}

// Atom 11 of quiet-then-mass/d48/k80/t9/s61 (refined): the latent matching
// it holds it from snapshot 6, the activations from its onset at 3.
FeatureTrajectory taken_over_late() {
  return trajectory_of({0.00f, 0.01f, 0.00f, 0.01f, 0.00f, 0.02f, 1.00f, 0.93f, 0.87f},
                       {0.03f, 0.01f, 0.00f, 1.32f, 1.19f, 1.09f, 1.00f, 0.93f, 0.87f});
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

TEST(FeatureSummary, ADirectionOfOneSnapshotIsTransientNotEmerged) {
  // A feature of quiet-then-mass/d48/k80/t9/s61 as streamed: present at
  // snapshot 1 only (a quarter of the probe tokens there), and the
  // activations read it nowhere else.
  const std::vector<float> norm = {0.03f, 1.00f, 0.00f, 0.00f, 0.00f};
  const nlohmann::json one = summarise_feature(trajectory_of(norm, {0.07f, 1.00f, 0.04f, -0.01f, -0.01f}),
                                               EmergenceOptions{}, nullptr).json;
  EXPECT_TRUE(one["emerged_step"].is_null());
  EXPECT_EQ(one["transient_step"], 100);
  EXPECT_TRUE(one["faded_step"].is_null());

  // Either side: weaker but not gone after it (0.2), or present for two
  // snapshots, is an emergence and a fade.
  const nlohmann::json weaker = summarise_feature(trajectory_of(norm, {0.07f, 1.00f, 0.20f, 0.10f, 0.10f}),
                                                  EmergenceOptions{}, nullptr).json;
  EXPECT_EQ(weaker["emerged_step"], 100);
  EXPECT_TRUE(weaker["transient_step"].is_null());
  const nlohmann::json two = summarise_feature(
      trajectory_of({0.03f, 1.00f, 0.90f, 0.00f, 0.00f}, {0.07f, 1.00f, 0.90f, 0.04f, 0.00f}), EmergenceOptions{},
      nullptr).json;
  EXPECT_EQ(two["emerged_step"], 100);
  EXPECT_TRUE(two["transient_step"].is_null());
  // A feature that emerged at 100 and faded at 300 keeps that story when a
  // direction of one snapshot passes through it at 500.
  const nlohmann::json story = summarise_feature(
      trajectory_of({0.03f, 1.00f, 0.90f, 0.00f, 0.00f, 0.80f, 0.00f},
                    {0.07f, 1.00f, 0.90f, 0.04f, 0.00f, 0.80f, 0.02f}),
      EmergenceOptions{}, nullptr).json;
  EXPECT_EQ(story["emerged_step"], 100);
  EXPECT_EQ(story["faded_step"], 300);
  EXPECT_EQ(story["transient_step"], 500);
  EXPECT_EQ(story["emergence_evidence"]["step"], 100);
  // Unmeasured activations: as the norm says.
  const nlohmann::json unmeasured = summarise_feature(trajectory_of(norm, {NAN, NAN, NAN, NAN, NAN}),
                                                      EmergenceOptions{}, nullptr).json;
  EXPECT_EQ(unmeasured["emerged_step"], 100);
}

TEST(FeatureSummary, AnEmergenceWhoseDirectionTurnsAtOnceIsTransient) {
  // Present from snapshot 1 on by the norm and the activations; the
  // decoder cosine of snapshot 2's direction with snapshot 1's decides.
  const std::vector<float> norm = {0.01f, 1.00f, 0.90f, 0.80f, 0.80f};
  auto with_turn = [&](float cosine_at_2) {
    FeatureTrajectory trajectory = trajectory_of(norm, {0.05f, 1.00f, 0.90f, 0.80f, 0.80f});
    trajectory.points[2].cos_previous = cosine_at_2;
    return trajectory;
  };
  // A latent that mixed atoms, one per snapshot (quiet-then-mass/d72/k110/
  // t8/s307 refined, feature 246: the next snapshot's direction another
  // atom's): no emergence, a direction of one snapshot.
  const nlohmann::json turned = summarise_feature(with_turn(0.10f), EmergenceOptions{}, nullptr).json;
  EXPECT_TRUE(turned["emerged_step"].is_null());
  EXPECT_EQ(turned["transient_step"], 100);
  EXPECT_TRUE(turned["emergence_evidence"].is_null());
  // The other side: the lowest cosine of a rising atom dated exactly on the
  // same stream (0.747) keeps the emergence, and says so in its evidence.
  const nlohmann::json kept = summarise_feature(with_turn(0.747f), EmergenceOptions{}, nullptr).json;
  EXPECT_EQ(kept["emerged_step"], 100);
  EXPECT_TRUE(kept["transient_step"].is_null());
  EXPECT_FLOAT_EQ(kept["emergence_evidence"]["decoder_cosine_next"].get<float>(), 0.747f);
  // Off (-1): as the norm says.
  EmergenceOptions off;
  off.direction_held_cosine = -1;
  EXPECT_EQ(summarise_feature(with_turn(0.10f), off, nullptr).json["emerged_step"], 100);
  // Turned, but the feature fades right away by its norm: the fade rule's
  // case (its activations after it decide), not this one.
  FeatureTrajectory gone = trajectory_of({0.01f, 1.00f, 0.10f, 0.00f, 0.00f}, {0.05f, 1.00f, 0.30f, 0.20f, 0.20f});
  gone.points[2].cos_previous = 0.10f;
  const nlohmann::json faded = summarise_feature(gone, EmergenceOptions{}, nullptr).json;
  EXPECT_EQ(faded["emerged_step"], 100);
  EXPECT_EQ(faded["faded_step"], 200);
  // Turned, present on by the norm, and gone by the activations at the
  // next snapshot: that fade is the turned direction's own, part of the
  // transient, not a fade of the feature. The same answer as a direction
  // that held and is gone by the activations next (the one-snapshot rule:
  // an emergence reads gone at s - 1 too, else it is strengthened).
  auto gone_by_activations = [&](const std::vector<float>& strength, float cosine_at_2) {
    FeatureTrajectory trajectory = trajectory_of(norm, strength);
    trajectory.points[2].cos_previous = cosine_at_2;
    return trajectory;
  };
  const std::vector<float> gone_next = {0.05f, 1.00f, 0.05f, 0.05f, 0.05f};
  for (const float cosine : {0.10f, 0.747f}) {
    const nlohmann::json answer = summarise_feature(gone_by_activations(gone_next, cosine), EmergenceOptions{},
                                                    nullptr).json;
    EXPECT_EQ(answer["transient_step"], 100) << cosine;
    EXPECT_TRUE(answer["emerged_step"].is_null()) << cosine;
    EXPECT_TRUE(answer["faded_step"].is_null()) << cosine;
  }
  // The other side: the turned-to direction lives a snapshot and is gone
  // by the activations after it: that fade is reported.
  const nlohmann::json later = summarise_feature(gone_by_activations({0.05f, 1.00f, 0.90f, 0.05f, 0.05f}, 0.10f),
                                                 EmergenceOptions{}, nullptr).json;
  EXPECT_EQ(later["transient_step"], 100);
  EXPECT_EQ(later["faded_step"], 300);
  // An earlier story stands through a turned direction and its own fade.
  FeatureTrajectory earlier = trajectory_of({0.01f, 1.00f, 0.90f, 0.00f, 0.00f, 0.90f, 0.80f, 0.80f},
                                            {0.05f, 1.00f, 0.90f, 0.05f, 0.05f, 1.00f, 0.05f, 0.05f});
  earlier.points[6].cos_previous = 0.10f;
  const nlohmann::json stands = summarise_feature(earlier, EmergenceOptions{}, nullptr).json;
  EXPECT_EQ(stands["emerged_step"], 100);
  EXPECT_EQ(stands["faded_step"], 300);
  EXPECT_EQ(stands["transient_step"], 500);
  // The latest snapshot has no next: kept, null in the evidence.
  const nlohmann::json last = summarise_feature(trajectory_of({0.0f, 0.0f, 1.0f}, {0.0f, 0.0f, 1.0f}),
                                                EmergenceOptions{}, nullptr).json;
  EXPECT_EQ(last["emerged_step"], 200);
  EXPECT_TRUE(last["emergence_evidence"]["decoder_cosine_next"].is_null());
}

}  // namespace
}  // namespace cw
