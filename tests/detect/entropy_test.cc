#include "detect/entropy.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <fstream>
#include <random>
#include <stdexcept>
#include <string>

namespace cw {
namespace {

TEST(ProbeEntropy, HandComputedUnigramAndBigram) {
  // p(0)=1/2, p(1)=p(2)=1/4 -> 1.5 ln 2. Pairs (0,1) (1,0) (0,2): after 0 the
  // next is 1 or 2 evenly, after 1 it is 0 -> H = 2/3 ln 2.
  const ProbeEntropy h = probe_entropy({0, 1, 0, 2}, 4);
  EXPECT_NEAR(h.unigram, 1.5 * std::log(2.0), 1e-12);
  EXPECT_NEAR(h.bigram, 2.0 / 3.0 * std::log(2.0), 1e-12);
  EXPECT_EQ(h.tokens, 4u);
  EXPECT_EQ(h.pairs, 3u);
}

TEST(ProbeEntropy, PairsDoNotCrossSequenceBoundaries) {
  // Inside each sequence the next token is determined; the pair (0, 1)
  // across the boundary would make it uncertain.
  const ProbeEntropy h = probe_entropy({0, 0, 1, 1}, 2);
  EXPECT_NEAR(h.unigram, std::log(2.0), 1e-12);
  EXPECT_NEAR(h.bigram, 0.0, 1e-12);
  EXPECT_EQ(h.pairs, 2u);
  // As one sequence the pairs are (0,0) (0,1) (1,1): after 0 either follows.
  EXPECT_NEAR(probe_entropy({0, 0, 1, 1}, 4).bigram, 2.0 / 3.0 * std::log(2.0), 1e-12);
}

TEST(ProbeEntropy, UniformIidTokensApproachLogVocabulary) {
  std::mt19937 rng(7);
  std::uniform_int_distribution<uint32_t> token(0, 15);
  std::vector<uint32_t> ids(200000);
  for (auto& t : ids) t = token(rng);
  const ProbeEntropy h = probe_entropy(ids, 100);
  EXPECT_NEAR(h.unigram, std::log(16.0), 1e-3);
  // Plug-in conditional entropy is biased low by about (V-1)V / (2 n) nats.
  EXPECT_NEAR(h.bigram, std::log(16.0), 5e-3);
  EXPECT_LT(h.bigram, h.unigram);
}

// A Markov chain whose conditional entropy is known exactly, sampled as a
// small probe set: the corrected estimate is closer to the truth than the
// plug-in one, which runs low.
TEST(ProbeEntropy, CorrectedEstimateIsCloserOnASmallProbeSet) {
  constexpr uint32_t kVocab = 16;
  std::mt19937 rng(5);
  // Next token: the previous + 1 with probability 1/2, else uniform over
  // the vocabulary. H(next | prev) = −(p log p + (k−1) q log q) with
  // q = 1/(2k), p = 1/2 + q.
  const double q = 0.5 / kVocab, p = 0.5 + q;
  const double truth = -(p * std::log(p) + (kVocab - 1) * q * std::log(q));
  std::uniform_int_distribution<uint32_t> any(0, kVocab - 1);
  std::bernoulli_distribution follow(0.5);
  std::vector<uint32_t> tokens;
  for (int s = 0; s < 16; ++s) {
    uint32_t token = any(rng);
    for (int i = 0; i < 64; ++i) {
      tokens.push_back(token);
      token = follow(rng) ? (token + 1) % kVocab : any(rng);
    }
  }
  const ProbeEntropy h = probe_entropy(tokens, 64);
  EXPECT_LT(h.bigram, truth - 0.05);  // the plug-in bias at 1,008 pairs
  EXPECT_LT(std::fabs(h.bigram_corrected - truth), std::fabs(h.bigram - truth));
  EXPECT_NEAR(h.bigram_corrected, truth, 0.08);
  EXPECT_GT(h.unigram_corrected, h.unigram);
}

TEST(ProbeEntropy, RefusesRaggedOrEmptyProbeSets) {
  EXPECT_THROW(probe_entropy({1, 2, 3}, 2), std::invalid_argument);
  EXPECT_THROW(probe_entropy({1, 2}, 0), std::invalid_argument);
  EXPECT_THROW(probe_entropy({}, 4), std::invalid_argument);
  EXPECT_DOUBLE_EQ(probe_entropy({3, 4}, 1).bigram, 0.0);  // no pairs at all
}

// An independent computation with numpy on a skewed, Markov-ish corpus.
TEST(ProbeEntropy, AgreesWithNumpy) {
  std::mt19937 rng(11);
  std::geometric_distribution<uint32_t> skewed(0.3);
  const size_t sequence_length = 17, sequences = 300;
  std::vector<uint32_t> ids;
  for (size_t s = 0; s < sequences; ++s) {
    uint32_t prev = skewed(rng);
    for (size_t i = 0; i < sequence_length; ++i) {
      const uint32_t next = (rng() % 3 == 0) ? skewed(rng) : (prev * 7 + 3) % 40;
      ids.push_back(next);
      prev = next;
    }
  }
  const std::string path = ::testing::TempDir() + "cw_entropy_tokens.txt";
  {
    std::ofstream out(path);
    for (uint32_t t : ids) out << t << "\n";
  }
  const std::string script =
      "import numpy as np\n"
      "t = np.loadtxt('" + path + "', dtype=np.int64).reshape(-1, " + std::to_string(sequence_length) + ")\n"
      "def H(c):\n"
      "    p = c[c > 0] / c.sum(); return float(-(p * np.log(p)).sum())\n"
      "_, uni = np.unique(t.ravel(), return_counts=True)\n"
      "pairs = t[:, :-1].ravel() * 100000 + t[:, 1:].ravel()\n"
      "_, pc = np.unique(pairs, return_counts=True)\n"
      "_, prevc = np.unique(t[:, :-1].ravel(), return_counts=True)\n"
      "print('%.15f %.15f' % (H(uni), H(pc) - H(prevc)))\n";
  const std::string script_path = ::testing::TempDir() + "cw_entropy_check.py";
  std::ofstream(script_path) << script;
  FILE* pipe = popen((std::string(CW_PYTHON) + " " + script_path).c_str(), "r");
  ASSERT_NE(pipe, nullptr);
  double unigram = -1, bigram = -1;
  const int read = fscanf(pipe, "%lf %lf", &unigram, &bigram);
  const int status = pclose(pipe);
  if (read != 2 || status != 0) GTEST_SKIP() << CW_PYTHON << " with numpy is not available";
  const ProbeEntropy h = probe_entropy(ids, sequence_length);
  EXPECT_NEAR(h.unigram, unigram, 1e-9);
  EXPECT_NEAR(h.bigram, bigram, 1e-9);
  EXPECT_LT(h.bigram, h.unigram - 0.3);  // the Markov structure shows
}

}  // namespace
}  // namespace cw
