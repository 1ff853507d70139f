// The science bars of docs/CROSSCODER.md ("Planted streams: what the default
// config achieves") on one CI-sized mixed stream, through the real
// conceptwatchd with the DEFAULT config (no [crosscoder] section) and no job
// scalars. bench/science (cw_science_planted) runs the full set of streams.
//
// Asserted: the bars the defaults meet today. Not asserted, because the
// defaults do not meet them yet (measured on this stream, AMD EPYC, main of
// 2026-12-03; 36 s of CPU):
//   - mean max |cos| 0.948 (bar 0.95);
//   - explained variance 0.861 (bar 0.9);
//   - L0 3.58 against a planted 2.66: 1.35× (bar within 25%);
//   - the mass emergence at snapshot 3 is not flagged: no phase transition
//     at all (bar: flagged within ±1 snapshot, with no job scalars);
//   - 1 of the 4 atoms on from snapshot 0 has a feature claiming a later
//     emergence (bar ≤ 5%; the 24- and 50-snapshot controls in bench/science
//     measure it on many more atoms).
// Met today, and asserted: emergence dated exactly for 26 of 28 rising atoms
// (bar 90%), both fading atoms reported faded, no false alarm. When a change
// meets another bar, assert it here.
#include <gtest/gtest.h>

#include <cstdio>

#include "examples/planted/planted_presets.h"
#include "tests/analysis/planted_scorecard.h"
#include "tests/analysis/planted_stream.h"

namespace cw {
namespace {

TEST(PlantedScience, DefaultConfigOnAMixedStream) {
  // Weak initialisation atoms fading, a few rare atoms on throughout, half
  // the rest switching on together at snapshot 3, the others one by one
  // after it, raw scale ×4: 32 atoms, d 32, 7 snapshots (256 features by default).
  const auto planted = make_planted_dictionary(planted_preset(PlantedStructure::kQuietThenMass, 32, 32, 7, 5));
  testing::DaemonProcess daemon;
  daemon.start();
  testing::stream_planted(daemon, "mixed", planted);
  const auto card = testing::score_planted(planted, testing::read_daemon_report(daemon, "mixed"), testing::planted_step);
  std::printf("%s\n", card.to_json().dump().c_str());

  EXPECT_GE(card.dated_exact_share(), 0.9) << card.to_json().dump(1);
  EXPECT_EQ(card.faded, card.fading);
  EXPECT_GT(card.fading, 0);
  EXPECT_EQ(card.false_alarms, 0);
  // A floor below the bar (0.95), so that recovery getting worse is caught.
  EXPECT_GE(card.mean_max_cosine, 0.9);
  EXPECT_EQ(daemon.terminate(), 0) << daemon.log();
}

}  // namespace
}  // namespace cw
