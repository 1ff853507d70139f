// The probe rows a crosscoder never trains on (crosscoder/held_out_rows.h):
// which rows, that training and the moves between updates never read them,
// and the memorisation verdict evaluate()'s held-out metrics give.
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include "crosscoder/crosscoder.h"
#include "crosscoder/crosscoder_results.h"
#include "crosscoder/held_out_rows.h"
#include "tests/crosscoder/small_crosscoder.h"

namespace cw {
namespace {

TEST(HeldOutRows, OneInEveryChosenTheSameWayEachTime) {
  int64_t held = 0;
  for (int64_t r = 0; r < 65536; ++r) {
    held += is_held_out_row(r, 32);
    EXPECT_EQ(is_held_out_row(r, 32), is_held_out_row(r, 32));
    ASSERT_FALSE(is_held_out_row(r, 0));
    ASSERT_FALSE(is_held_out_row(r, 1));
  }
  EXPECT_NEAR(double(held) / 65536, 1.0 / 32, 0.003);
}

// A stride would hold out the same positions of every sequence (every 32nd
// row of sequences 64 long: positions 0 and 32 only); the hash spreads them.
TEST(HeldOutRows, NotTiedToPositionsInASequence) {
  const int64_t length = 64, sequences = 2048;
  std::vector<int64_t> by_position(length, 0);
  for (int64_t r = 0; r < length * sequences; ++r) by_position[r % length] += is_held_out_row(r, 32);
  for (int64_t position = 0; position < length; ++position) {
    EXPECT_GT(by_position[position], sequences / 64) << position;
    EXPECT_LT(by_position[position], sequences / 16) << position;
  }
}

// A case on each side of the 16 rows expected: 511 rows at one in 32 hold
// none out, 512 do.
TEST(HeldOutRows, NoneWhereFewerThanSixteenWouldBeHeldOut) {
  EXPECT_EQ(effective_hold_out_every(511, 32), 0);
  EXPECT_EQ(effective_hold_out_every(512, 32), 32);
  EXPECT_EQ(effective_hold_out_every(1 << 20, 0), 0);
  EXPECT_EQ(effective_hold_out_every(1 << 20, 1), 0);
}

TEST(HeldOutRows, EveryOneIsRefusedWithItsName) {
  CrosscoderOptions o = small_options();
  o.hold_out_every = 1;
  try {
    Crosscoder cc(o);
    ADD_FAILURE() << "hold_out_every = 1 was accepted";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("hold_out_every must be 0"), std::string::npos) << e.what();
  }
}

// Rows: the held-out ones hold one direction only they have, the others a
// few directions of their own. Trained with one row in 4 held out, no
// latent decodes the held-out direction and the held-out rows are poorly
// explained; trained on every row, a latent decodes it.
struct TwoKindsOfRows {
  static constexpr int64_t kRows = 2048, kD = 16, kEvery = 4;
  std::vector<float> x = std::vector<float>(kRows * kD, 0.f);
  int64_t held = 0;
  TwoKindsOfRows() {
    std::mt19937_64 rng(7);
    std::normal_distribution<float> noise(0.f, 0.01f);
    std::uniform_real_distribution<float> magnitude(0.5f, 1.5f);
    std::uniform_int_distribution<int> atom(0, 5);
    for (int64_t r = 0; r < kRows; ++r) {
      float* row = &x[r * kD];
      for (int64_t j = 0; j < kD; ++j) row[j] = noise(rng);
      if (is_held_out_row(r, kEvery)) {
        row[kD - 1] += magnitude(rng);  // axis 15: only the held-out rows
        ++held;
      } else {
        row[atom(rng)] += magnitude(rng);  // axes 0-5
      }
    }
  }
};

double best_cosine_with_last_axis(const Crosscoder& cc, int64_t head) {
  const auto w = cc.decoder_directions(head);
  const int64_t d = TwoKindsOfRows::kD;
  double best = 0;
  for (int64_t f = 0; f < cc.options().n_features; ++f) {
    double norm = 0;
    for (int64_t j = 0; j < d; ++j) norm += double(w[f * d + j]) * w[f * d + j];
    if (norm > 0) best = std::max(best, std::fabs(w[f * d + d - 1]) / std::sqrt(norm));
  }
  return best;
}

Crosscoder trained_on(const TwoKindsOfRows& rows, int64_t every) {
  CrosscoderOptions o = small_options();
  o.steps_per_update = 300;
  o.hold_out_every = every;
  Crosscoder cc(o);
  // Two snapshots: the second update recruits from the rows' residuals,
  // the held-out rows' the largest were they read.
  for (uint64_t step : {0, 1}) {
    cc.add_snapshot(step, rows.x.data(), TwoKindsOfRows::kRows);
    cc.train();
  }
  return cc;
}

TEST(HeldOutRows, TrainingNeverReadsThemAndEvaluateReportsThemApart) {
  const TwoKindsOfRows rows;
  const Crosscoder held_out = trained_on(rows, TwoKindsOfRows::kEvery);
  const auto m = held_out.evaluate().back();
  EXPECT_EQ(m.held_out_rows, rows.held);
  for (int64_t head : {0, 1}) EXPECT_LT(best_cosine_with_last_axis(held_out, head), 0.5) << head;
  EXPECT_GT(m.explained_variance, 0.8);
  EXPECT_LT(m.held_out_explained_variance, 0.3);
  EXPECT_GT(m.held_out_explained_variance_se, 0);
  EXPECT_TRUE(memorised(m));

  const Crosscoder all = trained_on(rows, 0);
  const auto m_all = all.evaluate().back();
  EXPECT_EQ(m_all.held_out_rows, 0);
  for (int64_t head : {0, 1}) EXPECT_GT(best_cosine_with_last_axis(all, head), 0.9) << head;
  EXPECT_FALSE(memorised(m_all));
}

// A case on each side of the verdict: a gap of 0.1 plus two standard errors.
TEST(HeldOutRows, MemorisedIsAGapBeyondTheThresholdAndTwoStandardErrors) {
  SnapshotMetrics m;
  m.explained_variance = 0.95;
  m.held_out_rows = 128;
  m.held_out_explained_variance = 0.80;
  m.held_out_explained_variance_se = 0.02;  // 0.15 − 0.04 > 0.1
  EXPECT_TRUE(memorised(m));
  m.held_out_explained_variance_se = 0.03;  // 0.15 − 0.06 < 0.1
  EXPECT_FALSE(memorised(m));
  m.held_out_explained_variance_se = 0;
  m.held_out_explained_variance = 0.86;  // 0.09
  EXPECT_FALSE(memorised(m));
  m.held_out_explained_variance = 0.5;
  m.held_out_rows = 0;  // none held out: no verdict
  EXPECT_FALSE(memorised(m));
}

}  // namespace
}  // namespace cw
