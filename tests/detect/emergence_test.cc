#include "detect/emergence.h"

#include <gtest/gtest.h>

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
  EXPECT_FALSE(events[0].evidence.has_frequency);
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
  const std::vector<double> freq = {0.05, 0.04, 0.02, 0.0, 0.0, 0.0, 0.0, 0.00005, 0.01, 0.02};
  FeatureEventTracker tracker;
  for (size_t s = 0; s < norm.size(); ++s) tracker.append(norm[s], freq[s]);
  const auto& events = tracker.events();
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].kind, FeatureEventKind::kFaded);
  EXPECT_EQ(events[0].snapshot, 3u);
  EXPECT_TRUE(events[0].initially_present);
  EXPECT_TRUE(events[0].evidence.absence_confirmed);  // stopped firing
  EXPECT_EQ(events[1].kind, FeatureEventKind::kReEmerged);
  EXPECT_EQ(events[1].snapshot, 8u);
  EXPECT_TRUE(events[1].evidence.absence_confirmed);  // 5e-5 before, 1e-2 at
  EXPECT_DOUBLE_EQ(events[1].evidence.frequency_before, 0.00005);
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

TEST(Emergence, EvidenceTellsAbsentFromMerelyWeaker) {
  // arXiv 2504.02922: the norm may be small where the feature still fires.
  const std::vector<double> norm = {0.1, 0.1, 0.15, 0.9, 1.0};
  const std::vector<double> weak_but_firing = {0.01, 0.012, 0.011, 0.013, 0.012};
  const std::vector<double> really_absent = {0.0, 0.0, 0.0, 0.01, 0.012};

  const auto recorded = detect_feature_events(norm, weak_but_firing);
  ASSERT_EQ(recorded.size(), 1u);
  EXPECT_EQ(recorded[0].kind, FeatureEventKind::kEmerged);
  EXPECT_TRUE(recorded[0].evidence.has_frequency);
  EXPECT_FALSE(recorded[0].evidence.absence_confirmed);
  EXPECT_DOUBLE_EQ(recorded[0].evidence.frequency_before, 0.011);

  EmergenceOptions strict;
  strict.require_absence_evidence = true;
  EXPECT_EQ(detect_feature_events(norm, weak_but_firing, strict)[0].kind, FeatureEventKind::kStrengthened);
  const auto confirmed = detect_feature_events(norm, really_absent, strict);
  EXPECT_EQ(confirmed[0].kind, FeatureEventKind::kEmerged);
  EXPECT_TRUE(confirmed[0].evidence.absence_confirmed);
  EXPECT_THROW(detect_feature_events(norm, {}, strict), std::invalid_argument);
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
}

}  // namespace
}  // namespace cw
