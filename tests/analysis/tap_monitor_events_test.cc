// Feature events are raised once per feature and kind (a history the
// crosscoder refines is re-dated, not new), and again for a feature id that
// recruitment gave a new direction (TapMonitor::forget_features).
#include <gtest/gtest.h>

#include <vector>

#include "analysis/feature_analysis.h"
#include "analysis/tap_monitor.h"

namespace cw {
namespace {

// One feature over three snapshots (steps 0, 100, 200) that emerged at `snapshot`.
FeatureAnalysis emerged_at(size_t snapshot) {
  FeatureAnalysis analysis;
  FeatureTrajectory trajectory;
  for (uint64_t step : {0, 100, 200}) {
    FeaturePoint point;
    point.step = step;
    trajectory.points.push_back(point);
  }
  analysis.trajectories = {trajectory};
  FeatureEvent event;
  event.kind = FeatureEventKind::kEmerged;
  event.snapshot = snapshot;
  analysis.events = {{event}};
  analysis.live = {true};
  return analysis;
}

TEST(TapMonitorFeatureEvents, RaisedOncePerFeatureAndAgainForARecruitedOne) {
  std::vector<nlohmann::json> emitted;
  TapMonitor monitor("run", "tap", MonitorOptions{}, std::nullopt,
                     [&](const nlohmann::json& event) { emitted.push_back(event); });
  monitor.observe_features(emerged_at(1), 200);
  ASSERT_EQ(emitted.size(), 1u);
  EXPECT_EQ(emitted[0]["type"], "feature_emerged");
  EXPECT_EQ(emitted[0]["step"], 100);
  monitor.observe_features(emerged_at(2), 200);  // re-dated by a later update: not new
  EXPECT_EQ(emitted.size(), 1u);
  monitor.forget_features({0});  // recruited onto another direction
  monitor.observe_features(emerged_at(2), 200);
  ASSERT_EQ(emitted.size(), 2u);
  EXPECT_EQ(emitted[1]["step"], 200);
  EXPECT_EQ(emitted[1]["feature"], 0);
}

}  // namespace
}  // namespace cw
