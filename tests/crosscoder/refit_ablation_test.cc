// Latents the others reconstruct (crosscoder/refit_ablation.h): the share of
// a latent's decoded energy that its rows' other latents cannot take over,
// a case on each side of the default fold level (0.1), and duplicates that
// lose one of the pair, not both.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "crosscoder/crosscoder_options.h"
#include "crosscoder/refit_ablation.h"

namespace cw {
namespace {

// Unit rows in d 3: 0 = e0; 1 = e0 + 0.25 e1 (what e0 leaves of it: 0.0625 /
// 1.0625 = 0.059); 2 = e0 + 0.4 e2 (0.16 / 1.16 = 0.138); 3 = e0 exactly.
std::vector<float> decoder() {
  std::vector<float> w = {1, 0, 0, 1, 0.25f, 0, 1, 0, 0.4f, 1, 0, 0};
  for (int r = 0; r < 4; ++r) {
    const float n = std::sqrt(w[3 * r] * w[3 * r] + w[3 * r + 1] * w[3 * r + 1] + w[3 * r + 2] * w[3 * r + 2]);
    for (int k = 0; k < 3; ++k) w[3 * r + k] /= n;
  }
  return w;
}

TEST(RefitAblation, ShareIsWhatTheRowsOtherLatentsCannotDecode) {
  const auto w = decoder();
  RefitAblation ablation(w.data(), 4, 3);
  const int64_t pair01[] = {0, 1}, pair02[] = {0, 2}, alone[] = {2};
  const float values[] = {2.0f, 1.0f};
  for (int r = 0; r < 5; ++r) ablation.add_row(0, pair01, values, 2);
  for (int r = 0; r < 5; ++r) ablation.add_row(0, pair02, values, 2);
  EXPECT_NEAR(ablation.unexplained(1), 0.0625 / 1.0625, 1e-6);
  EXPECT_NEAR(ablation.unexplained(2), 0.16 / 1.16, 1e-6);
  EXPECT_NEAR(ablation.energy(1), 5.0, 1e-5);
  EXPECT_DOUBLE_EQ(ablation.unexplained(3), 1.0);  // never fired
  const float one[] = {1.0f};
  ablation.add_row(0, alone, one, 1);  // a row of its own: all of it is missing
  EXPECT_NEAR(ablation.unexplained(2), (5 * 0.16 / 1.16 + 1) / 6, 1e-6);
  // Below the default level: folded; above it: kept. Latent 0 carries the
  // rows' most energy and is what explains both.
  const auto folded = ablation.foldable(CrosscoderOptions().fold_unexplained);
  ASSERT_EQ(folded, std::vector<int64_t>({1}));
}

TEST(RefitAblation, OfTwoDuplicatesTheOneWithLessEnergyIsFolded) {
  const auto w = decoder();
  RefitAblation ablation(w.data(), 4, 3);
  const int64_t pair[] = {0, 3};
  const float values[] = {1.0f, 0.5f};
  for (int r = 0; r < 8; ++r) ablation.add_row(0, pair, values, 2);
  EXPECT_NEAR(ablation.unexplained(0), 0.0, 1e-6);
  EXPECT_NEAR(ablation.unexplained(3), 0.0, 1e-6);
  // Latent 0 alone is left once 3 is gone: its share without 3 is 1.
  EXPECT_EQ(ablation.foldable(0.1), std::vector<int64_t>({3}));
  // With 0 already freed (merged or joined away), 3 is all that is left.
  std::vector<char> gone(4, 0);
  gone[0] = 1;
  EXPECT_TRUE(ablation.foldable(0.1, gone).empty());
}

TEST(RefitAblation, HeadsAreReadEachWithItsOwnDecoder) {
  // Two heads of two latents: at head 0 they are duplicates, at head 1
  // orthogonal. Head 1's rows count against folding.
  const std::vector<float> w = {1, 0, 0, 1, 0, 0,   // head 0: e0, e0
                                1, 0, 0, 0, 1, 0};  // head 1: e0, e1
  RefitAblation ablation(w.data(), 2, 3);
  const int64_t pair[] = {0, 1};
  const float values[] = {1.0f, 1.0f};
  ablation.add_row(0, pair, values, 2);
  EXPECT_NEAR(ablation.unexplained(1), 0.0, 1e-6);
  ablation.add_row(1, pair, values, 2);
  EXPECT_NEAR(ablation.unexplained(1), 0.5, 1e-6);
  EXPECT_TRUE(ablation.foldable(0.1).empty());
}

TEST(RefitAblation, ARowEditedAfterItWasReadIsReadAgain) {
  // Latent 1 duplicates latent 0 as read; then latent 0's row is edited
  // (as a merge's keeper is) to e1, and latent 2 (never firing) is gone:
  // the share of 1 is recomputed from the rows as they are now.
  std::vector<float> w = {1, 0, 0, 1, 0, 0, 0, 0, 1};
  RefitAblation ablation(w.data(), 3, 3);
  const int64_t pair[] = {0, 1};
  const float values[] = {1.0f, 0.5f};
  ablation.add_row(0, pair, values, 2);
  EXPECT_NEAR(ablation.unexplained(1), 0.0, 1e-6);
  w[0] = 0, w[1] = 1;
  std::vector<char> gone(3, 0);
  gone[2] = 1;
  EXPECT_TRUE(ablation.foldable(0.1, gone).empty());  // e0 is no longer reconstructed by 0
}

}  // namespace
}  // namespace cw
