// The science bars of docs/CROSSCODER.md ("Planted streams: what the default
// config achieves") on one CI-sized mixed stream, through the real
// conceptwatchd with the DEFAULT config (no [crosscoder] section) and no job
// scalars. bench/science (cw_science_planted) runs the full set of streams.
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
  EXPECT_EQ(daemon.terminate(), 0) << daemon.log();
}

}  // namespace
}  // namespace cw
