// A phase transition raised on the job's scalars alone is said again, once,
// when a feature series joins it (a phase_transition_features event); one
// raised with a feature series already, one whose follow-up is in the log,
// or one whose raise and follow-up are observed together (one update's
// backlog) is not.
#include <gtest/gtest.h>

#include <map>
#include <random>
#include <string>
#include <vector>

#include "analysis/tap_monitor.h"

namespace cw {
namespace {

MonitorOptions loss_and_new_mass() {
  MonitorOptions options;
  options.series = {"new_mass_share"};
  options.scalar_series = {"train_loss"};
  options.loss_scalars = {};  // no phase labels: transitions only
  return options;
}

// 30 snapshots 20 steps apart: the loss falls 3 nats at snapshot 20; the
// share of activity carried by features new there spikes (0.6) at
// `spike_at`, two snapshots later when the crosscoder trails the job.
// Snapshots [held_from, held_to) are observed together (one update's
// backlog: TapMonitor::hold_events).
std::vector<nlohmann::json> run(size_t spike_at, const std::vector<nlohmann::json>& logged = {}, size_t held_from = 0,
                                size_t held_to = 0) {
  std::vector<nlohmann::json> emitted;
  TapMonitor monitor("run", "tap", loss_and_new_mass(), std::nullopt,
                     [&](const nlohmann::json& event) { emitted.push_back(event); });
  for (const auto& event : logged) monitor.remember(event);
  std::mt19937 rng(3);
  std::normal_distribution<double> noise(0.0, 0.005);
  for (size_t i = 0; i < 30; ++i) {
    if (i == held_from && held_from < held_to) monitor.hold_events();
    const double loss = (i >= 20 ? 1.0 : 4.0) + noise(rng);
    const double share = (i == spike_at ? 0.6 : 0.01) + std::abs(noise(rng));
    monitor.observe_snapshot(20 * i, {{"train_loss", loss}, {"new_mass_share", share}});
    if (i + 1 == held_to) monitor.release_events();
  }
  return emitted;
}

std::vector<nlohmann::json> of_type(const std::vector<nlohmann::json>& events, const std::string& type) {
  std::vector<nlohmann::json> out;
  for (const auto& event : events)
    if (event["type"] == type) out.push_back(event);
  return out;
}

TEST(TapMonitorTransitions, AFeatureSeriesJoiningAScalarOnlyTransitionIsSaidOnce) {
  const auto events = run(22);
  const auto raised = of_type(events, "phase_transition");
  ASSERT_EQ(raised.size(), 1u);
  EXPECT_TRUE(raised[0]["feature_signals"].empty()) << raised[0].dump(1);
  const auto joined = of_type(events, "phase_transition_features");
  ASSERT_EQ(joined.size(), 1u);  // not again at the later snapshots
  EXPECT_EQ(joined[0]["transition"], raised[0]["transition"]);
  EXPECT_EQ(joined[0]["feature_signals"], nlohmann::json::array({"new_mass_share"}));
  EXPECT_EQ(joined[0]["step"], 20 * 22);
  EXPECT_EQ(joined[0]["key"], raised[0]["key"].get<std::string>() + ":features");

  // A restarted daemon that finds both in its log says neither again.
  EXPECT_TRUE(of_type(run(22, {raised[0], joined[0]}), "phase_transition_features").empty());
  // ... and one that finds only the raise says the follow-up then.
  EXPECT_EQ(of_type(run(22, {raised[0]}), "phase_transition_features").size(), 1u);
}

TEST(TapMonitorTransitions, ATransitionRaisedWithAFeatureSeriesIsNotSaidAgain) {
  const auto events = run(20);  // the share moves with the loss
  const auto raised = of_type(events, "phase_transition");
  ASSERT_EQ(raised.size(), 1u);
  EXPECT_EQ(raised[0]["feature_signals"], nlohmann::json::array({"new_mass_share"})) << raised[0].dump(1);
  EXPECT_TRUE(of_type(events, "phase_transition_features").empty());
  // Nor after a restart whose log holds that raise.
  EXPECT_TRUE(of_type(run(20, {raised[0]}), "phase_transition_features").empty());
}

TEST(TapMonitorTransitions, ARaiseAndItsFollowUpObservedTogetherAreOneRaise) {
  // Snapshots 19-24 in one update: the loss's move (20) and the share's
  // (22) are known at once, so the raise says both and nothing follows.
  const auto events = run(22, {}, 19, 25);
  const auto raised = of_type(events, "phase_transition");
  ASSERT_EQ(raised.size(), 1u);
  EXPECT_EQ(raised[0]["feature_signals"], nlohmann::json::array({"new_mass_share"})) << raised[0].dump(1);
  EXPECT_EQ(raised[0]["scalar_signals"], nlohmann::json::array({"train_loss"}));
  EXPECT_EQ(raised[0]["severity"], "warning");
  EXPECT_EQ(raised[0]["key"], "transition:" + raised[0]["transition"].dump());
  EXPECT_EQ(raised[0]["step"], 20 * 22);  // where the feature series joined
  EXPECT_TRUE(of_type(events, "phase_transition_features").empty());
  // Nor after a restart whose log holds that raise.
  EXPECT_TRUE(of_type(run(22, {raised[0]}), "phase_transition_features").empty());

  // The raise (at snapshot 21, one after the loss's move) observed before
  // the update that holds the share's move was emitted already: the
  // follow-up stays a follow-up.
  const auto apart = run(22, {}, 22, 25);
  ASSERT_EQ(of_type(apart, "phase_transition").size(), 1u);
  EXPECT_TRUE(of_type(apart, "phase_transition")[0]["feature_signals"].empty());
  EXPECT_EQ(of_type(apart, "phase_transition_features").size(), 1u);
}

}  // namespace
}  // namespace cw
