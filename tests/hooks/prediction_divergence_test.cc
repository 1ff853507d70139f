#include "hooks/prediction_divergence.h"

#include <gtest/gtest.h>

#include <cmath>
#include <stdexcept>
#include <vector>

namespace cw {
namespace {

// Dense, straight from the definition in hooks/prediction_divergence.h.
PredictionDivergence dense(const std::vector<uint32_t>& tokens, int64_t L, int64_t V, const std::vector<float>& logits) {
  const double n = double(tokens.size());
  std::vector<double> count(V, 0), from(V, 0), pair(V * V, 0);
  for (std::size_t i = 0; i < tokens.size(); ++i) {
    count[tokens[i]] += 1;
    if ((i + 1) % L != 0) pair[tokens[i] * V + tokens[i + 1]] += 1, from[tokens[i]] += 1;
  }
  PredictionDivergence out;
  for (std::size_t i = 0; i < tokens.size(); ++i) {
    double z = 0;
    for (int64_t v = 0; v < V; ++v) z += std::exp(double(logits[i * V + v]));
    for (int64_t v = 0; v < V; ++v) {
      const double p = std::exp(double(logits[i * V + v])) / z;
      const double q_uni = (count[v] + 1.0 / V) / (n + 1);
      const double q_bi = (pair[tokens[i] * V + v] + q_uni) / (from[tokens[i]] + 1);
      out.kl_unigram += p * std::log(p / q_uni) / n;
      out.kl_bigram += p * std::log(p / q_bi) / n;
    }
  }
  return out;
}

TEST(PredictionDivergence, MatchesTheDenseDefinition) {
  // Two sequences of 5 over a vocabulary of 7 (ids 5 and 6 never seen).
  const std::vector<uint32_t> tokens = {0, 1, 0, 1, 2, 3, 3, 4, 0, 1};
  const int64_t L = 5, V = 7;
  std::vector<float> logits(tokens.size() * V);
  for (std::size_t i = 0; i < logits.size(); ++i) logits[i] = float(std::sin(0.7 * double(i)) * 3.0);
  const NgramReference reference(tokens, L, V);
  const auto got = reference.divergence(logits.data());
  const auto want = dense(tokens, L, V, logits);
  EXPECT_NEAR(got.kl_unigram, want.kl_unigram, 1e-9);
  EXPECT_NEAR(got.kl_bigram, want.kl_bigram, 1e-9);
  // q_uni(0) = (3 + 1/7) / 11; 0 is followed three times, by 1 each time.
  EXPECT_NEAR(reference.unigram(0), (3 + 1.0 / 7) / 11, 1e-12);
  EXPECT_NEAR(reference.bigram(0, 1), (3 + reference.unigram(1)) / 4, 1e-12);
  EXPECT_NEAR(reference.bigram(4, 0), (1 + reference.unigram(0)) / 2, 1e-12);
  // 2 ends the first sequence: no pair starts with it, q_bi(· | 2) = q_uni.
  EXPECT_NEAR(reference.bigram(2, 0), reference.unigram(0), 1e-12);
}

TEST(PredictionDivergence, ZeroWhenTheModelPredictsTheNgram) {
  const std::vector<uint32_t> tokens = {0, 1, 2, 0, 1, 2, 1, 1};
  const int64_t L = 4, V = 3;
  const NgramReference reference(tokens, L, V);
  std::vector<float> unigram_logits(tokens.size() * V), bigram_logits(tokens.size() * V);
  for (std::size_t i = 0; i < tokens.size(); ++i)
    for (int64_t v = 0; v < V; ++v) {
      unigram_logits[i * V + v] = float(std::log(reference.unigram(uint32_t(v))));
      bigram_logits[i * V + v] = float(std::log(reference.bigram(tokens[i], uint32_t(v))));
    }
  EXPECT_NEAR(reference.divergence(unigram_logits.data()).kl_unigram, 0.0, 1e-6);
  EXPECT_NEAR(reference.divergence(bigram_logits.data()).kl_bigram, 0.0, 1e-6);
  EXPECT_GT(reference.divergence(bigram_logits.data()).kl_unigram, 0.01);
}

TEST(PredictionDivergence, RejectsWhatItCannotCount) {
  EXPECT_THROW(NgramReference({0, 1, 2}, 2, 3), std::invalid_argument);  // not whole sequences
  EXPECT_THROW(NgramReference({0, 5}, 2, 3), std::invalid_argument);     // outside the vocabulary
  EXPECT_THROW(NgramReference({0, 1}, 2, 0), std::invalid_argument);
}

}  // namespace
}  // namespace cw
