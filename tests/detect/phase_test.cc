#include "detect/phase.h"

#include <gtest/gtest.h>

#include <cmath>
#include <stdexcept>
#include <vector>

namespace cw {
namespace {

using P = TrainingPhase;

TEST(PhaseLabeller, LossCurveCrossingBothEntropies) {
  // Char-level KJV-like: H1 = 3.0, H2 = 2.26 nats; tolerances 0.06 and 0.045.
  const std::vector<double> loss = {4.2, 3.5, 3.05, 2.97, 2.9, 2.5, 2.28, 2.25, 2.27, 2.24,
                                    2.23, 2.2, 2.24, 2.1, 1.9};
  const std::vector<P> expected = {P::kInitialization, P::kInitialization, P::kInitialization,
                                   P::kInitialization,  // 2.97 is within tolerance of H1
                                   P::kStatisticalLearning, P::kStatisticalLearning, P::kStatisticalLearning,
                                   P::kStatisticalLearning, P::kStatisticalLearning, P::kStatisticalLearning,
                                   P::kStatisticalLearning,  // plateau on H2: still statistical
                                   P::kFeatureLearning,      // 2.20 < 2.26 - 0.045
                                   P::kFeatureLearning,      // 2.24 < H2 + tol: no flicker back
                                   P::kFeatureLearning, P::kFeatureLearning};
  EXPECT_EQ(label_phases(loss, 3.0, 2.26), expected);

  PhaseLabeller labeller(3.0, 2.26);
  for (size_t i = 0; i < loss.size(); ++i) labeller.observe(1000 * (i + 1), loss[i]);
  const auto& changes = labeller.changes();
  ASSERT_EQ(changes.size(), 3u);
  EXPECT_EQ(changes[0].phase, P::kInitialization);
  EXPECT_EQ(changes[1].phase, P::kStatisticalLearning);
  // Dated where the loss crossed for good (2.97 < 3.0), confirmed a snapshot
  // later (2.9 < 3.0 − 0.06).
  EXPECT_EQ(changes[1].snapshot, 3u);
  EXPECT_EQ(changes[1].step, 4000u);
  EXPECT_EQ(changes[1].confirmed_step, 5000u);
  EXPECT_EQ(changes[2].phase, P::kFeatureLearning);
  // 2.25 crossed H2 at 8000 but went back above (2.27); 2.24 at 10000 did not.
  EXPECT_EQ(changes[2].step, 10000u);
  EXPECT_EQ(changes[2].confirmed_step, 12000u);
  EXPECT_STREQ(to_string(changes[2].phase), "feature-learning");
}

TEST(PhaseLabeller, GoesBackWhenTheLossClearlyRises) {
  const auto labels = label_phases({2.0, 2.1, 2.4, 2.5, 3.5}, 3.0, 2.26);
  EXPECT_EQ(labels, (std::vector<P>{P::kFeatureLearning, P::kFeatureLearning, P::kStatisticalLearning,
                                    P::kStatisticalLearning, P::kInitialization}));
}

TEST(PhaseLabeller, RefusesNonsense) {
  EXPECT_THROW(PhaseLabeller(0, 1), std::invalid_argument);
  PhaseLabeller labeller(3, 2);
  EXPECT_THROW(labeller.observe(1, std::nan("")), std::invalid_argument);
}

}  // namespace
}  // namespace cw
