#include <gtest/gtest.h>

#include <cmath>

#include "examples/tinygpt/char_entropy.h"
#include "examples/tinygpt/checkpoint_schedule.h"
#include "examples/tinygpt/logging_sink.h"

namespace cw {
namespace {

TEST(TinyGptSchedule, LogSpacedThenEveryNThenLast) {
  const CheckpointSchedule schedule(512, 500, 1730);
  const std::vector<uint64_t> expected{0, 1, 2, 4, 8, 16, 32, 64, 128, 256, 500, 512, 1000, 1500, 1730};
  EXPECT_EQ(schedule.steps(), expected);
  EXPECT_TRUE(schedule.contains(64));
  EXPECT_FALSE(schedule.contains(65));
  EXPECT_TRUE(schedule.contains(1730));
}

TEST(TinyGptSchedule, ShortRunStopsAtLastStep) {
  const CheckpointSchedule schedule(512, 0, 10);
  EXPECT_EQ(schedule.steps(), (std::vector<uint64_t>{0, 1, 2, 4, 8, 10}));
}

TEST(TinyGptEntropy, UniformAndDeterministicSequences) {
  // 0 1 2 3 0 1 2 3 ...: uniform unigram (ln 4), next token fully determined.
  std::vector<int64_t> cycle;
  for (int i = 0; i < 400; ++i) cycle.push_back(i % 4);
  EXPECT_NEAR(unigram_entropy(cycle, 4), std::log(4.0), 1e-12);
  EXPECT_NEAR(bigram_entropy(cycle, 4), 0.0, 1e-12);
  // Two symbols: "0 0 1" repeated. p(0)=2/3; after 1 always 0; after 0 it is 0 or 1 evenly.
  std::vector<int64_t> pattern;
  for (int i = 0; i < 3000; ++i) pattern.push_back(i % 3 == 2 ? 1 : 0);
  const double h_unigram = -(2.0 / 3) * std::log(2.0 / 3) - (1.0 / 3) * std::log(1.0 / 3);
  EXPECT_NEAR(unigram_entropy(pattern, 2), h_unigram, 1e-12);
  EXPECT_NEAR(bigram_entropy(pattern, 2), (2.0 / 3) * std::log(2.0), 1e-3);
  EXPECT_THROW(unigram_entropy({0, 5}, 4), std::invalid_argument);
}

TEST(TinyGptLoggingSink, RmsOfView) {
  const float data[4] = {3, -4, 0, 0};
  EXPECT_NEAR(rms(MatrixView{data, 2, 2}), 2.5, 1e-12);
}

}  // namespace
}  // namespace cw
