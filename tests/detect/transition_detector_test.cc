#include "detect/transition_detector.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include "detect/emergence.h"
#include "tests/detect/synthetic_series.h"

namespace cw {
namespace {

// Log-spaced training steps, like the paper's snapshots.
std::vector<uint64_t> log_spaced_steps(size_t n) {
  std::vector<uint64_t> steps;
  for (size_t i = 0; i < n; ++i) steps.push_back(static_cast<uint64_t>(std::llround(10 * std::pow(1.25, i))) + i);
  return steps;
}

// A synthetic crosscoder's features over snapshots: `mass` features emerge
// at `mass_at` (if any), a few single ones emerge at scattered snapshots, 20
// initialisation features stay present, the rest stay weak. Returns the
// aggregate series the daemon would feed the TransitionDetector.
std::vector<std::map<std::string, double>> feature_aggregates(size_t snapshots, size_t mass, size_t mass_at,
                                                              unsigned seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<double> wobble(0.0, 0.04);
  std::vector<std::vector<double>> norms;
  auto feature = [&](size_t emerge_at, bool initial) {
    std::vector<double> n(snapshots);
    for (size_t s = 0; s < snapshots; ++s) {
      const double level = initial || s >= emerge_at ? 0.9 : 0.1;
      n[s] = std::min(1.0, std::max(0.0, level + wobble(rng)));
    }
    norms.push_back(n);
  };
  for (size_t i = 0; i < mass; ++i) feature(mass_at, false);
  for (size_t at : {5, 11, 16, 27, 33}) feature(at, false);
  for (size_t i = 0; i < 20; ++i) feature(snapshots, true);
  for (size_t i = 0; i < 100; ++i) feature(snapshots, false);

  std::vector<FeatureEventTracker> trackers(norms.size());
  std::vector<std::map<std::string, double>> out(snapshots);
  const std::vector<double> surprise = cw::testing::noise(snapshots, 0.02, seed + 1);
  for (size_t s = 0; s < snapshots; ++s) {
    double emerging = 0, alive = 0;
    for (size_t f = 0; f < norms.size(); ++f) {
      const auto event = trackers[f].append(norms[f][s]);
      if (event && event->kind != FeatureEventKind::kFaded) ++emerging;
      alive += trackers[f].present();
    }
    out[s] = {{"features_emerging", emerging}, {"features_alive", alive}, {"surprise", 0.3 + surprise[s]}};
  }
  return out;
}

TransitionDetector feature_detector() {
  TransitionDetector detector;
  // Counts move by whole features; a floor of two features keeps a trickle of
  // single emergences (one every ~5 snapshots here) from reading as a shift.
  detector.configure_series("features_emerging", {2.0});
  detector.configure_series("features_alive", {2.0});
  return detector;
}

TEST(TransitionDetector, MassEmergenceIsExactlyOneTransitionAtItsSnapshot) {
  const std::vector<uint64_t> steps = log_spaced_steps(40);
  for (unsigned seed = 1; seed <= 5; ++seed) {
    TransitionDetector detector = feature_detector();
    size_t raised = 0;
    for (const auto& values : feature_aggregates(40, 60, 20, seed)) {
      const size_t s = detector.steps().size();
      raised += detector.observe(steps[s], values).size();
    }
    ASSERT_EQ(raised, 1u) << "seed " << seed;
    ASSERT_EQ(detector.transitions().size(), 1u);
    const Transition& t = detector.transitions()[0];
    EXPECT_NEAR(static_cast<double>(t.halfway_index), 20.0, 1.0) << "seed " << seed;
    EXPECT_EQ(t.halfway_step, steps[t.halfway_index]);
    EXPECT_GE(t.alarm_index, t.halfway_index);
    EXPECT_LE(t.alarm_index, 23u);
    EXPECT_TRUE(t.confirmed) << "seed " << seed;
    ASSERT_TRUE(t.pelt_index.has_value());
    EXPECT_NEAR(static_cast<double>(*t.pelt_index), 20.0, 1.0);
    bool alive_moved = false;
    for (const SeriesMove& m : t.moves) {
      if (m.series != "features_alive") continue;
      alive_moved = true;
      EXPECT_EQ(m.direction, +1);
      EXPECT_NEAR(m.magnitude, 60.0, 3.0);
    }
    EXPECT_TRUE(alive_moved) << "seed " << seed;
  }
}

TEST(TransitionDetector, StationaryControlHasNoTransition) {
  const std::vector<uint64_t> steps = log_spaced_steps(40);
  for (unsigned seed = 1; seed <= 5; ++seed) {
    TransitionDetector detector = feature_detector();
    for (const auto& values : feature_aggregates(40, 0, 0, seed)) detector.observe(steps[detector.steps().size()], values);
    EXPECT_TRUE(detector.transitions().empty()) << "seed " << seed;
  }
}

TEST(TransitionDetector, SeriesMovingTogetherMakeOneTransitionWithEveryMove) {
  const std::vector<double> loss = cw::testing::steps(50, {0, 30}, {4.1, 2.0}, 0.05, 3);
  const std::vector<double> accuracy = cw::testing::steps(50, {0, 31}, {0.1, 0.9}, 0.03, 4);
  const std::vector<double> flat = cw::testing::noise(50, 1.0, 5);
  TransitionDetector detector;
  for (size_t s = 0; s < loss.size(); ++s) {
    std::map<std::string, double> values = {{"training_loss", loss[s]}, {"flat", flat[s]}};
    if (s >= 10) values["induction_accuracy"] = accuracy[s];  // a task probe that starts late
    detector.observe(100 * (s + 1), values);
  }
  ASSERT_EQ(detector.transitions().size(), 1u);
  const Transition& t = detector.transitions()[0];
  EXPECT_NEAR(static_cast<double>(t.halfway_index), 30.0, 1.0);
  EXPECT_EQ(t.halfway_step, 100 * (t.halfway_index + 1));
  ASSERT_EQ(t.moves.size(), 2u);
  for (const SeriesMove& m : t.moves) {
    if (m.series == "training_loss") {
      EXPECT_EQ(m.direction, -1);
      EXPECT_NEAR(m.magnitude, -2.1, 0.1);
    } else {
      EXPECT_EQ(m.series, "induction_accuracy");
      EXPECT_EQ(m.direction, +1);
      EXPECT_NEAR(static_cast<double>(m.onset_index), 31.0, 1.0);
    }
  }
}

// A series that only joins: its step alone raises nothing; the same step
// beside another series' move is one transition holding both moves.
TEST(TransitionDetector, ASeriesThatOnlyJoinsRaisesNothingAloneAndJoinsAnotherSeriesMove) {
  // The dimensionality rate's late step on tinygpt (log −2.5 → −1.7), alone
  // or beside a loss falling at `loss_at`.
  auto run = [](bool joins_only, bool with_loss, size_t loss_at) {
    const std::vector<double> rate = cw::testing::steps(50, {0, 30}, {-2.5, -1.7}, 0.03, 6);
    const std::vector<double> loss = cw::testing::steps(50, {0, loss_at}, {4.1, 2.0}, 0.05, 3);
    TransitionDetector detector;
    SeriesOptions options;
    options.min_move = 0.69;
    options.joins_only = joins_only;
    detector.configure_series("log_dimensionality_rate", options);
    for (size_t s = 0; s < rate.size(); ++s) {
      std::map<std::string, double> values = {{"log_dimensionality_rate", rate[s]}};
      if (with_loss) values["training_loss"] = loss[s];
      detector.observe(100 * (s + 1), values);
    }
    return detector.transitions();
  };
  EXPECT_TRUE(run(true, false, 0).empty());
  EXPECT_EQ(run(false, false, 0).size(), 1u);  // the step is large enough: joins_only is what holds it back
  for (const size_t loss_at : {31u, 28u}) {     // the loss one snapshot after it, or two before
    const auto transitions = run(true, true, loss_at);
    ASSERT_EQ(transitions.size(), 1u) << "loss falling at " << loss_at;
    std::vector<std::string> series;
    for (const SeriesMove& m : transitions[0].moves) series.push_back(m.series);
    std::sort(series.begin(), series.end());
    EXPECT_EQ(series, (std::vector<std::string>{"log_dimensionality_rate", "training_loss"})) << "loss falling at " << loss_at;
  }
}

// The job's ICL score on tinygpt (seed 16, d_model 72; its series is in
// bench/science/results-tinygpt-unseen.json): it falls at the induction
// transition (steps 320-420) and then eases on by another 1.1 over 600
// steps. CUSUM flagged that tail at step 820 with its onset at 420,
// measured against the level from before the transition: read alone, a
// second transition.
// Flagged 20 snapshots after its onset, it is a drift and raises nothing;
// a sharp second fall is flagged at once and does.
TEST(TransitionDetector, ADriftFlaggedLongAfterItsOnsetRaisesNothingAndASharpMoveStillDoes) {
  const std::vector<uint64_t> steps = {0,   1,   2,   4,   8,   16,  20,  32,  40,  60,  64,  80,  100, 120, 140,
                                       160, 180, 200, 220, 240, 260, 280, 300, 320, 340, 360, 380, 400, 420, 440,
                                       460, 480, 500, 520, 540, 560, 580, 600, 620, 640, 660, 680, 700, 720, 740,
                                       760, 780, 800, 820, 840, 860, 880, 900, 920, 940, 960, 980, 1000};
  const std::vector<double> icl = {
      -0.00191473192, -0.00852917087, -0.00113899477, -0.00511317099, -0.0142256214, -0.0193865376,
      -0.0227065548, -0.0312942997, -0.0434215915, -0.0640002835, -0.0604513845, -0.0791785948,
      -0.0930271764, -0.102049058, -0.109009774, -0.130959788, -0.1396002, -0.142425537,
      -0.159493723, -0.161873602, -0.170360934, -0.191331925, -0.230024276, -0.327910146,
      -0.787592242, -1.74274838, -2.48562007, -3.01179677, -3.38540736, -3.60857711,
      -3.83216901, -3.85993607, -3.87807821, -3.87470092, -3.88364315, -3.93338942,
      -3.97467479, -4.00566884, -4.04622393, -4.05068879, -4.0323432, -4.06099655,
      -4.0856385, -4.0872093, -4.08805827, -4.09276787, -4.09018226, -4.1317022,
      -4.10651205, -4.11633299, -4.12278782, -4.12081147, -4.12345439, -4.13108616,
      -4.13751661, -4.12906501, -4.12907763, -4.14616514};
  auto run = [&](double second_fall_at_700) {
    TransitionDetector detector;
    SeriesOptions options;
    options.min_move = 0.25;  // deploy/conceptwatchd.toml's for icl_score
    detector.configure_series("icl_score", options);
    for (size_t i = 0; i < steps.size(); ++i)
      detector.observe(steps[i], {{"icl_score", icl[i] + (steps[i] >= 700 ? second_fall_at_700 : 0.0)}});
    return detector.transitions();
  };
  const auto drift = run(0);
  ASSERT_EQ(drift.size(), 1u);
  EXPECT_GE(drift[0].halfway_step, 340u);
  EXPECT_LE(drift[0].halfway_step, 400u);
  const auto sharp = run(-1.0);
  ASSERT_EQ(sharp.size(), 2u);
  // Raised within a snapshot of the fall (its onset is dated back into the
  // drift that ran into it).
  EXPECT_GE(sharp[1].alarm_step, 700u);
  EXPECT_LE(sharp[1].alarm_step, 720u);
}

TEST(TransitionDetector, ARampThatKeepsAlarmingIsOneTransition) {
  std::vector<double> values = cw::testing::noise(60, 1.0, 12);
  for (size_t i = 30; i < values.size(); ++i) values[i] += 0.8 * static_cast<double>(i - 30);
  TransitionDetector detector;
  for (size_t s = 0; s < values.size(); ++s) detector.observe(s + 1, {{"mean_direction_change", values[s]}});
  ASSERT_EQ(detector.transitions().size(), 1u);
  const Transition& t = detector.transitions()[0];
  EXPECT_GE(t.began_index, 29u);
  EXPECT_LE(t.began_index, 36u);
  // A ramp that has not levelled off is half done somewhere along it.
  EXPECT_GE(t.halfway_index, t.began_index);
  EXPECT_EQ(t.moves[0].direction, +1);
}

// A ratio series near 1 with a single spike: with spike_above the spike is
// a transition at its own snapshot; a smaller spike and plain noise are not.
TEST(TransitionDetector, ASpikeAboveItsThresholdIsATransitionAtItsSnapshot) {
  std::mt19937 rng(4);
  std::normal_distribution<double> noise(0.0, 0.05);
  TransitionDetector detector;
  SeriesOptions options;
  options.spike_above = 8;
  detector.configure_series("surprise_ratio", options);
  const auto steps = log_spaced_steps(40);
  for (size_t i = 0; i < steps.size(); ++i) {
    double value = 1.0 + noise(rng);
    if (i == 12) value = 4.5;  // one feature born: below the threshold
    if (i == 25) value = 40;   // many at once
    detector.observe(steps[i], {{"surprise_ratio", value}});
  }
  ASSERT_EQ(detector.transitions().size(), 1u);
  const Transition& t = detector.transitions()[0];
  EXPECT_EQ(t.halfway_index, 25u);
  EXPECT_EQ(t.alarm_index, 25u);
  EXPECT_EQ(t.halfway_step, steps[25]);
  ASSERT_FALSE(t.moves.empty());
  EXPECT_NE(t.moves[0].detectors.find("spike"), std::string::npos);
}

// With spike_over_level the spike must also stand out from the level just
// before it. The shape of tinygpt's start-up (the ratio at 5-11 for eight
// snapshots, then one at 25: 3.4 times its level, as steps 32-120 of the
// repeat task at d_model 64) is not a transition at 8; the same height
// after a calm stretch (40 times the level) is.
TEST(TransitionDetector, ASpikeMustStandOutFromTheLevelJustBeforeIt) {
  auto transitions_for = [](const std::vector<double>& ratios) {
    TransitionDetector detector;
    SeriesOptions options;
    options.spike_above = 16;
    options.spike_over_level = 8;
    detector.configure_series("surprise_ratio", options);
    const auto steps = log_spaced_steps(ratios.size());
    for (size_t i = 0; i < ratios.size(); ++i) detector.observe(steps[i], {{"surprise_ratio", ratios[i]}});
    return detector.transitions();
  };
  std::vector<double> busy = {1.1, 1.2, 1.4, 1.7, 2.7, 4.5, 6.7, 11.1, 7.8, 9.6, 10.8, 5.3, 25.0};
  std::vector<double> calm = {1.1, 1.0, 1.2, 1.1, 0.9, 1.0, 1.1, 1.0, 1.2, 1.1, 1.0, 1.1, 25.0};
  for (int i = 0; i < 12; ++i) busy.push_back(1.2), calm.push_back(1.1);
  EXPECT_TRUE(transitions_for(busy).empty()) << "25 at 3.4 times the level before it";
  const auto found = transitions_for(calm);
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(found[0].halfway_index, 12u);
}
// A loss that creeps down for a while and then falls sharply (tinygpt
// before and during induction-head formation).
std::vector<double> creep_then_fall(unsigned seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<double> noise(0.0, 0.005);
  std::vector<double> values;
  for (size_t i = 0; i < 70; ++i) {
    double value = 4.1;
    if (i >= 10) value -= 0.008 * double(std::min<size_t>(i, 40) - 10);  // creep
    if (i >= 40) value -= 0.35 * double(std::min<size_t>(i, 49) - 40);   // fall over 40..49
    values.push_back(value + noise(rng));
  }
  return values;
}

std::string describe(const TransitionDetector& detector) {
  std::string found;
  for (const Transition& t : detector.transitions()) {
    found += " [began " + std::to_string(t.began_index) + " onset " + std::to_string(t.halfway_index) + " alarm " +
             std::to_string(t.alarm_index);
    for (const SeriesMove& m : t.moves) found += " " + m.detectors + " mag " + std::to_string(m.magnitude);
    found += "]";
  }
  return found;
}

// With every move counting (min_move 0) the creep is a transition, and the
// sharp fall is one of its own, not the continuation of the creep.
TEST(TransitionDetector, ADriftThatTurnsIntoASharpDropIsANewTransitionAtTheDrop) {
  TransitionDetector detector;
  const auto steps = log_spaced_steps(70);
  const auto values = creep_then_fall(9);
  for (size_t i = 0; i < steps.size(); ++i) detector.observe(steps[i], {{"loss", values[i]}});
  bool at_drop = false;
  for (const Transition& t : detector.transitions())
    at_drop = at_drop || (t.began_index >= 38 && t.began_index <= 42 && t.halfway_index >= 40 && t.halfway_index <= 49);
  EXPECT_TRUE(at_drop) << describe(detector);
}

// A creep that turns into a sudden drop (tinygpt's training loss: drifting
// from step 160, falling at 380-420), with a second series that steps up
// as the drop begins (its induction scores). The drop steepens a drift
// already in a transition, but another series moved with it: it is part of
// their transition, not one of its own. (Alone, as above, it is its own.)
TEST(TransitionDetector, ASharpDropThatAnotherSeriesMovesWithJoinsItsTransition) {
  for (unsigned seed = 9; seed < 14; ++seed) {
    TransitionDetector detector;
    const auto steps = log_spaced_steps(70);
    std::mt19937 rng(seed);
    std::normal_distribution<double> noise(0.0, 0.005);
    for (size_t i = 0; i < steps.size(); ++i) {
      double loss = 4.1 - 0.008 * double(std::min<size_t>(std::max<size_t>(i, 10), 40) - 10);  // creep
      if (i >= 40) loss -= 3.0;                                                                 // drop
      detector.observe(steps[i], {{"loss", loss + noise(rng)}, {"score", (i >= 39 ? 1.0 : 0.0) + noise(rng)}});
    }
    size_t with_drop = 0;
    for (const Transition& t : detector.transitions()) {
      bool loss = false, score = false;
      for (const SeriesMove& m : t.moves) {
        loss = loss || m.series == "loss";
        score = score || m.series == "score";
      }
      if (loss && t.last_alarm_index >= 40) {
        ++with_drop;
        EXPECT_TRUE(score) << "seed " << seed << describe(detector);
      }
    }
    EXPECT_EQ(with_drop, 1u) << "seed " << seed << describe(detector);
  }
}

// With a floor on the move (the daemon's default for losses) the creep is
// no transition at all: one transition, begun near the fall (CUSUM dates
// the start a few snapshots into the creep's last stretch, not at its
// start), dated half-way down it (4.1 − 0.24 → 0.7 falls past 2.3 at
// snapshot 45), raised early in the fall.
TEST(TransitionDetector, WithAFloorOnlyTheFallIsATransitionDatedHalfWayDown) {
  for (unsigned seed = 9; seed < 14; ++seed) {
    TransitionDetector detector;
    SeriesOptions loss;
    loss.min_move = 0.25;
    detector.configure_series("loss", loss);
    const auto steps = log_spaced_steps(70);
    const auto values = creep_then_fall(seed);
    for (size_t i = 0; i < steps.size(); ++i) detector.observe(steps[i], {{"loss", values[i]}});
    ASSERT_EQ(detector.transitions().size(), 1u) << "seed " << seed << describe(detector);
    const Transition& t = detector.transitions()[0];
    EXPECT_GE(t.began_index, 30u) << describe(detector);
    EXPECT_LE(t.began_index, 42u) << describe(detector);
    EXPECT_NEAR(static_cast<double>(t.halfway_index), 45.0, 1.0) << describe(detector);
    EXPECT_LE(t.alarm_index, 44u) << describe(detector);
    EXPECT_NEAR(t.moves[0].magnitude, -3.15, 0.1);
  }
}

// An S-shaped fall on a smooth, slowly declining curve with little noise —
// what tinygpt's loss looks like: every bend of the decline is many noise
// sds, but only the fall moves by more than the floor (the decline moves
// 0.18 over its steepest 8 snapshots). Without the fall: none.
TEST(TransitionDetector, ASmoothCurvesBendsAreNotTransitionsItsSShapedFallIs) {
  for (bool fall : {true, false}) {
    std::mt19937 rng(21);
    std::normal_distribution<double> noise(0.0, 0.004);
    TransitionDetector detector;
    SeriesOptions loss;
    loss.min_move = 0.25;
    detector.configure_series("loss", loss);
    for (size_t i = 0; i < 80; ++i) {
      const double x = static_cast<double>(i);
      double value = 2.3 + 0.4 / std::sqrt(1.0 + x / 4);          // smooth decline, 2.7 → 2.39
      if (fall) value -= 1.5 / (1.0 + std::exp(-(x - 40) / 2.5));  // logistic fall, half done at 40
      detector.observe(10 * (i + 1), {{"loss", value + noise(rng)}});
    }
    if (!fall) {
      EXPECT_TRUE(detector.transitions().empty()) << describe(detector);
      continue;
    }
    ASSERT_EQ(detector.transitions().size(), 1u) << describe(detector);
    const Transition& t = detector.transitions()[0];
    EXPECT_NEAR(static_cast<double>(t.halfway_index), 40.0, 1.0) << describe(detector);
    EXPECT_LT(t.began_index, t.halfway_index);
    EXPECT_LE(t.alarm_index, 42u);
  }
}

TEST(TransitionDetector, RefusesStepsThatDoNotIncreaseAndLateConfiguration) {
  TransitionDetector detector;
  detector.observe(10, {{"a", 1.0}});
  EXPECT_THROW(detector.observe(10, {{"a", 1.0}}), std::invalid_argument);
  EXPECT_THROW(detector.observe(11, {{"a", std::nan("")}}), std::invalid_argument);
  EXPECT_THROW(detector.configure_series("a", {}), std::logic_error);
}

}  // namespace
}  // namespace cw
