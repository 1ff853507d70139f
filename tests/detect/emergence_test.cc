#include "detect/emergence.h"

#include <gtest/gtest.h>

#include <cmath>

#include <optional>
#include <stdexcept>
#include <vector>

namespace cw {
namespace {

TEST(Emergence, EmergesAtTheFirstCrossingThatLasts) {
  const std::vector<double> norm = {0.02, 0.05, 0.1, 0.3, 0.62, 0.8, 0.9, 1.0, 0.95, 0.97};
  const auto events = detect_feature_events(norm);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].kind, FeatureEventKind::kEmerged);
  EXPECT_EQ(events[0].snapshot, 4u);
  EXPECT_FALSE(events[0].initially_present);
  EXPECT_DOUBLE_EQ(events[0].evidence.norm_before, 0.3);
  EXPECT_EQ(events[0].evidence.verdict, EvidenceVerdict::kNone);
}

TEST(Emergence, HysteresisIgnoresWobbleAroundTheThreshold) {
  const std::vector<double> norm = {0.1, 0.2, 0.55, 0.45, 0.52, 0.35, 0.6, 0.48, 1.0};
  const auto with = detect_feature_events(norm);  // leaves only below 0.3
  ASSERT_EQ(with.size(), 1u);
  EXPECT_EQ(with[0].snapshot, 2u);

  EmergenceOptions none;
  none.hysteresis = 0;
  const auto without = detect_feature_events(norm, {}, none);
  // 0.55 up, 0.45 down, 0.52 up, 0.35 down, 0.6 up, 0.48 down, 1.0 up.
  ASSERT_EQ(without.size(), 7u);
  EXPECT_EQ(without[0].kind, FeatureEventKind::kEmerged);
  EXPECT_EQ(without[1].kind, FeatureEventKind::kFaded);
  EXPECT_EQ(without[2].kind, FeatureEventKind::kReEmerged);
  EXPECT_EQ(without[6].snapshot, 8u);
}

TEST(Emergence, InitialisationFeatureFadesThenReEmerges) {
  // The paper's initialisation features: strong at step 0, then gone.
  const std::vector<double> norm = {1.0, 0.9, 0.6, 0.25, 0.1, 0.05, 0.05, 0.2, 0.55, 0.7};
  // The activations agree with the norm (a faithful crosscoder).
  const std::vector<double> strength = {1.0, 0.9, 0.6, 0.2, 0.05, 0.0, 0.0, 0.1, 0.6, 0.7};
  FeatureEventTracker tracker;
  for (size_t s = 0; s < norm.size(); ++s) tracker.append(norm[s], strength[s]);
  const auto& events = tracker.events();
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].kind, FeatureEventKind::kFaded);
  EXPECT_EQ(events[0].snapshot, 3u);
  EXPECT_TRUE(events[0].initially_present);
  EXPECT_EQ(events[0].evidence.verdict, EvidenceVerdict::kConfirmed);  // 0.2 < 0.3 at the fade
  EXPECT_EQ(events[1].kind, FeatureEventKind::kReEmerged);
  EXPECT_EQ(events[1].snapshot, 8u);
  EXPECT_EQ(events[1].evidence.verdict, EvidenceVerdict::kConfirmed);  // 0.1 before
  EXPECT_DOUBLE_EQ(events[1].evidence.activation_before, 0.1);
  EXPECT_TRUE(tracker.present());
  EXPECT_EQ(tracker.emerged_at(), std::optional<size_t>(8));
}

TEST(Emergence, PresentFromTheStartIsNoEmergence) {
  FeatureEventTracker tracker;
  for (double v : {0.8, 0.9, 1.0, 0.95}) tracker.append(v);
  EXPECT_TRUE(tracker.events().empty());
  EXPECT_TRUE(tracker.initially_present());
  EXPECT_FALSE(tracker.emerged_at().has_value());
}

TEST(Emergence, ActivationEvidenceTellsAbsentFromMerelyShrunk) {
  // arXiv 2504.02922: the norm may be small where the feature is still there.
  const std::vector<double> norm = {0.1, 0.1, 0.15, 0.9, 1.0};
  // A feature picked up late: in the activations it was as strong all along.
  const std::vector<double> there_all_along = {0.95, 1.05, 0.98, 1.02, 1.0};
  // A true switch-on at snapshot 3 (~0 before, noise either side of 0).
  const std::vector<double> switched_on = {0.02, -0.03, 0.04, 0.93, 1.0};

  EmergenceOptions strict;
  strict.activation_evidence = true;
  const auto strengthened = detect_feature_events(norm, there_all_along, strict);
  ASSERT_EQ(strengthened.size(), 1u);
  EXPECT_EQ(strengthened[0].kind, FeatureEventKind::kStrengthened);
  EXPECT_EQ(strengthened[0].snapshot, 3u);
  EXPECT_EQ(strengthened[0].evidence.verdict, EvidenceVerdict::kContradicted);
  EXPECT_DOUBLE_EQ(strengthened[0].evidence.activation_before, 0.98);
  EXPECT_DOUBLE_EQ(strengthened[0].evidence.activation_at, 1.02);

  const auto confirmed = detect_feature_events(norm, switched_on, strict);
  ASSERT_EQ(confirmed.size(), 1u);
  EXPECT_EQ(confirmed[0].kind, FeatureEventKind::kEmerged);
  EXPECT_EQ(confirmed[0].evidence.verdict, EvidenceVerdict::kConfirmed);

  // Off: the contradiction is still recorded, the kind is the norm's.
  EmergenceOptions lenient;
  lenient.activation_evidence = false;
  const auto kept = detect_feature_events(norm, there_all_along, lenient);
  EXPECT_EQ(kept[0].kind, FeatureEventKind::kEmerged);
  EXPECT_EQ(kept[0].evidence.verdict, EvidenceVerdict::kContradicted);

  // Without the series there is no verdict; NaN where needed: unmeasured.
  EXPECT_EQ(detect_feature_events(norm)[0].evidence.verdict, EvidenceVerdict::kNone);
  EXPECT_EQ(detect_feature_events(norm)[0].kind, FeatureEventKind::kEmerged);
  const auto unmeasured = detect_feature_events(norm, {NAN, NAN, NAN, NAN, NAN});
  EXPECT_EQ(unmeasured[0].kind, FeatureEventKind::kEmerged);
  EXPECT_EQ(unmeasured[0].evidence.verdict, EvidenceVerdict::kUnmeasured);
  EXPECT_THROW(detect_feature_events(norm, {1.0, 1.0}), std::invalid_argument);
}

TEST(Emergence, ActivationThresholdIsTheNormThreshold) {
  // A genuine S-shaped rise crossing between 0.45 and 0.55: the activations
  // agree it was below threshold at s−1, so it stays an emergence; the
  // same rise with the activations at 0.5 before is contradicted (with
  // activation_dates, dated where they reached 0.5; gone, 0.1, at 0).
  const std::vector<double> norm = {0.1, 0.3, 0.45, 0.55, 1.0};
  EmergenceOptions strict;
  strict.activation_evidence = true;
  EXPECT_EQ(detect_feature_events(norm, {0.1, 0.3, 0.45, 0.55, 1.0}, strict)[0].kind, FeatureEventKind::kEmerged);
  EXPECT_EQ(detect_feature_events(norm, {0.1, 0.3, 0.5, 0.55, 1.0}, strict)[0].kind, FeatureEventKind::kStrengthened);
  strict.activation_dates = true;
  const auto earlier = detect_feature_events(norm, {0.1, 0.3, 0.5, 0.55, 1.0}, strict);
  EXPECT_EQ(earlier[0].kind, FeatureEventKind::kEmerged);
  EXPECT_EQ(earlier[0].snapshot, 2u);
  EXPECT_EQ(earlier[0].evidence.verdict, EvidenceVerdict::kEarlier);
}

TEST(Emergence, TheActivationsDateAnEmergenceTheNormSawLate) {
  // quiet-then-mass/d48/k80/t9/s61, refined: atom 11 switches on at
  // snapshot 3; the latent matching it holds it only from snapshot 6 (a
  // duplicate held it before), while the activations read ~0 up to 2 and
  // 1.32 from 3.
  const std::vector<double> norm = {0.00, 0.01, 0.00, 0.01, 0.00, 0.02, 1.00, 0.93, 0.87};
  const std::vector<double> strength = {0.03, 0.01, 0.00, 1.32, 1.19, 1.09, 1.00, 0.93, 0.87};
  EmergenceOptions dated;
  dated.activation_dates = true;
  FeatureEventTracker tracker(dated);
  std::optional<FeatureEvent> raised;
  for (std::size_t t = 0; t < norm.size(); ++t)
    if (auto event = tracker.append(norm[t], strength[t]); event && !raised) {
      raised = event;
      EXPECT_EQ(t, 6u);  // raised when the norm rose ...
    }
  ASSERT_TRUE(raised.has_value());
  EXPECT_EQ(raised->kind, FeatureEventKind::kEmerged);
  EXPECT_EQ(raised->snapshot, 3u);  // ... dated where the activations switched on
  EXPECT_EQ(raised->evidence.verdict, EvidenceVerdict::kEarlier);
  EXPECT_DOUBLE_EQ(raised->evidence.activation_before, 0.00);
  EXPECT_DOUBLE_EQ(raised->evidence.activation_at, 1.32);
  EXPECT_DOUBLE_EQ(raised->evidence.norm_at, 0.01);
  EXPECT_EQ(tracker.emerged_at(), std::optional<std::size_t>(3));

  // Either side of the gone level (activation_fade_below, 0.15): weaker
  // but never gone is no emergence.
  const auto weaker = detect_feature_events(norm, {0.20, 0.16, 0.18, 1.32, 1.19, 1.09, 1.00, 0.93, 0.87}, dated);
  EXPECT_EQ(weaker[0].kind, FeatureEventKind::kStrengthened);
  EXPECT_EQ(weaker[0].snapshot, 6u);
  const auto gone = detect_feature_events(norm, {0.20, 0.14, 0.18, 1.32, 1.19, 1.09, 1.00, 0.93, 0.87}, dated);
  EXPECT_EQ(gone[0].kind, FeatureEventKind::kEmerged);
  EXPECT_EQ(gone[0].snapshot, 3u);

  // Off (the default): strengthened.
  EXPECT_EQ(detect_feature_events(norm, strength)[0].kind, FeatureEventKind::kStrengthened);
}

TEST(Emergence, TheActivationsDateAReturnOnlySinceTheFade) {
  // Faded at 2 (gone by the activations too), back in them at 3, the norm
  // back at 5: re-emerged at 3.
  EmergenceOptions dated;
  dated.activation_dates = true;
  const auto back = detect_feature_events({0.9, 1.0, 0.1, 0.1, 0.1, 0.9}, {0.9, 1.0, 0.05, 0.6, 0.8, 0.9}, dated);
  ASSERT_EQ(back.size(), 2u);
  EXPECT_EQ(back[1].kind, FeatureEventKind::kReEmerged);
  EXPECT_EQ(back[1].snapshot, 3u);
  EXPECT_EQ(back[1].evidence.verdict, EvidenceVerdict::kEarlier);
  // Gone only before it first emerged: since the fade (0.4, 0.6) it was
  // weaker, not gone, so the return is strengthened.
  const auto stayed = detect_feature_events({0.1, 0.9, 1.0, 0.1, 0.1, 0.9}, {0.05, 0.9, 1.0, 0.4, 0.6, 0.9}, dated);
  ASSERT_EQ(stayed.size(), 3u);
  EXPECT_EQ(stayed[0].kind, FeatureEventKind::kEmerged);
  EXPECT_EQ(stayed[1].kind, FeatureEventKind::kFaded);
  EXPECT_EQ(stayed[2].kind, FeatureEventKind::kStrengthened);
  EXPECT_EQ(stayed[2].snapshot, 5u);
}

TEST(Emergence, AFeatureTheActivationsNeverLostIsStrengthenedNotEmerged) {
  // An atom present all along (quiet-then-mass/d32/k64/t12/s15, refined):
  // its feature peaked at the quiet snapshot before the mass emergence, and
  // the activations read 0.36-0.44 before it: weaker, never gone.
  const std::vector<double> norm = {0.37, 0.37, 0.42, 1.0, 0.13};
  const auto weaker = detect_feature_events(norm, {0.36, 0.40, 0.44, 1.0, 0.11});
  ASSERT_FALSE(weaker.empty());
  EXPECT_EQ(weaker[0].kind, FeatureEventKind::kStrengthened);
  EXPECT_EQ(weaker[0].evidence.verdict, EvidenceVerdict::kContradicted);
  // The same norms with the activations gone at one snapshot before: an emergence.
  const auto gone = detect_feature_events(norm, {0.36, 0.25, 0.44, 1.0, 0.11});
  EXPECT_EQ(gone[0].kind, FeatureEventKind::kEmerged);
  EXPECT_EQ(gone[0].evidence.verdict, EvidenceVerdict::kConfirmed);

  // After a fade the window starts again: a return that the activations
  // never saw leave is strengthened; one they saw leave re-emerged.
  const std::vector<double> on_off_on = {0.9, 1.0, 0.2, 0.2, 0.9};
  const auto stayed = detect_feature_events(on_off_on, {0.9, 1.0, 0.35, 0.4, 0.9});
  ASSERT_EQ(stayed.size(), 2u);
  EXPECT_EQ(stayed[0].kind, FeatureEventKind::kFaded);
  EXPECT_EQ(stayed[0].evidence.verdict, EvidenceVerdict::kContradicted);
  EXPECT_EQ(stayed[1].kind, FeatureEventKind::kStrengthened);
  const auto left = detect_feature_events(on_off_on, {0.9, 1.0, 0.1, 0.4, 0.9});
  ASSERT_EQ(left.size(), 2u);
  EXPECT_EQ(left[1].kind, FeatureEventKind::kReEmerged);
  EXPECT_EQ(left[1].evidence.verdict, EvidenceVerdict::kConfirmed);
}

TEST(Emergence, StrengthenedIsNoEmergenceDate) {
  EmergenceOptions strict;
  strict.activation_evidence = true;
  FeatureEventTracker tracker(strict);
  for (double v : {0.1, 0.2, 0.9, 1.0}) tracker.append(v, 1.0);
  ASSERT_EQ(tracker.events().size(), 1u);
  EXPECT_EQ(tracker.events()[0].kind, FeatureEventKind::kStrengthened);
  EXPECT_TRUE(tracker.present());
  EXPECT_FALSE(tracker.emerged_at().has_value());
}

TEST(Emergence, FadeEvidence) {
  const std::vector<double> norm = {1.0, 0.9, 0.1, 0.1};
  const auto gone = detect_feature_events(norm, {1.0, 0.9, 0.05, 0.0});
  ASSERT_EQ(gone.size(), 1u);
  EXPECT_EQ(gone[0].kind, FeatureEventKind::kFaded);
  EXPECT_EQ(gone[0].evidence.verdict, EvidenceVerdict::kConfirmed);
  const auto still_there = detect_feature_events(norm, {1.0, 0.9, 0.8, 0.9});
  EXPECT_EQ(still_there[0].evidence.verdict, EvidenceVerdict::kContradicted);
}

// The activations' fade: the planted stream's undated fading atom kept 0.55
// of its decoder norm at every head after the fade while its activation
// strength measured ~0. A case on each side of threshold − hysteresis (0.3),
// and the way back needs both series at threshold.
TEST(Emergence, ActivationsFadeAFeatureWhoseNormStaysUp) {
  const std::vector<double> norm = {0.9, 1.0, 0.62, 0.56, 0.55, 0.55};
  const auto gone = detect_feature_events(norm, {0.9, 1.0, 0.05, 0.02, 0.6, 0.9});
  ASSERT_EQ(gone.size(), 2u);
  EXPECT_EQ(gone[0].kind, FeatureEventKind::kFaded);
  EXPECT_EQ(gone[0].snapshot, 2u);
  EXPECT_EQ(gone[0].evidence.verdict, EvidenceVerdict::kConfirmed);
  EXPECT_EQ(gone[1].kind, FeatureEventKind::kReEmerged);  // both at threshold again at snapshot 4
  EXPECT_EQ(gone[1].snapshot, 4u);
  // Weaker but there (0.35 ≥ 0.3): no fade. Nor at 0.17–0.29, below the
  // norm's own off level but not gone (activation_fade_below 0.15): the
  // tinygpt demo's init features in mid-training, norm 0.6–0.9.
  EXPECT_TRUE(detect_feature_events(norm, {0.9, 1.0, 0.35, 0.4, 0.4, 0.5}).empty());
  EXPECT_TRUE(detect_feature_events({0.9, 1.0, 0.7, 0.66, 0.8, 0.9}, {0.9, 1.0, 0.29, 0.17, 0.6, 0.9}).empty());
  EmergenceOptions at_off_level;
  at_off_level.activation_fade_below = 0.3;  // the rule before: weaker reads as gone
  EXPECT_EQ(detect_feature_events({0.9, 1.0, 0.7, 0.66, 0.8, 0.9}, {0.9, 1.0, 0.29, 0.17, 0.6, 0.9}, at_off_level).size(),
            2u);  // faded at 2, re-emerged at 4: flicker
  // Switched off: the norm alone decides, as before.
  EmergenceOptions norm_only;
  norm_only.activation_fades = false;
  EXPECT_TRUE(detect_feature_events(norm, {0.9, 1.0, 0.05, 0.02, 0.6, 0.9}, norm_only).empty());
  // Unmeasured strength (NaN) never fades a feature.
  EXPECT_TRUE(detect_feature_events(norm, std::vector<double>(norm.size(), NAN)).empty());
}

TEST(Emergence, LongerSeriesNeverRewriteEarlierEvents) {
  const std::vector<double> norm = {0.0, 0.2, 0.7, 0.9, 0.2, 0.1, 0.6, 0.65, 0.62, 0.1, 0.9, 1.0};
  const auto full = detect_feature_events(norm);
  for (size_t n = 1; n <= norm.size(); ++n) {
    const auto prefix = detect_feature_events(std::vector<double>(norm.begin(), norm.begin() + n));
    ASSERT_LE(prefix.size(), full.size());
    for (size_t i = 0; i < prefix.size(); ++i) {
      EXPECT_EQ(prefix[i].snapshot, full[i].snapshot) << "prefix " << n;
      EXPECT_EQ(prefix[i].kind, full[i].kind) << "prefix " << n;
    }
  }
  ASSERT_EQ(full.size(), 5u);  // emerged 2, faded 4, re-emerged 6, faded 9, re-emerged 10
  EXPECT_EQ(full[4].snapshot, 10u);
}

TEST(Emergence, RefusesInconsistentInput) {
  EXPECT_THROW(detect_feature_events({0.1, 0.2}, {0.0}), std::invalid_argument);
  FeatureEventTracker tracker;
  tracker.append(0.1, 0.0);
  EXPECT_THROW(tracker.append(0.2), std::invalid_argument);
  EmergenceOptions bad;
  bad.hysteresis = 0.8;
  EXPECT_THROW(FeatureEventTracker{bad}, std::invalid_argument);
  EmergenceOptions above_off;
  above_off.activation_fade_below = 0.31;  // above threshold − hysteresis
  EXPECT_THROW(FeatureEventTracker{above_off}, std::invalid_argument);
}

}  // namespace
}  // namespace cw
