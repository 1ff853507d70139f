#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <set>

#include "examples/tinygpt/char_entropy.h"
#include "examples/tinygpt/kjv_corpus.h"
#include "examples/tinygpt/repeat_dataset.h"

namespace cw {
namespace {

TEST(TinyGptRepeat, SecondCopyEqualsFirst) {
  const RepeatSpec spec{64, 32};
  std::mt19937_64 rng(7);
  const RepeatBatch batch = make_repeat_batch(spec, 50, rng);
  const auto& tokens = batch.tokens;
  EXPECT_EQ(batch.copy_lengths, std::vector<int64_t>(50, 32));
  ASSERT_EQ(tokens.size(), 50u * 64u);
  std::set<int64_t> seen;
  for (int b = 0; b < 50; ++b) {
    for (int i = 0; i < 32; ++i) {
      EXPECT_EQ(tokens[b * 64 + i], tokens[b * 64 + 32 + i]);
      ASSERT_GE(tokens[b * 64 + i], 0);
      ASSERT_LT(tokens[b * 64 + i], 64);
      seen.insert(tokens[b * 64 + i]);
    }
  }
  EXPECT_EQ(seen.size(), 64u);  // 1600 uniform draws cover all 64 tokens
  // The same seed gives the same batch; another seed another one.
  std::mt19937_64 again(7), other(8);
  EXPECT_EQ(make_repeat_batch(spec, 50, again).tokens, tokens);
  EXPECT_NE(make_repeat_batch(spec, 50, other).tokens, tokens);
}

TEST(TinyGptRepeat, VariableCopyLengthsKeepTheSecondCopyAtTheEnd) {
  const RepeatSpec spec{64, 32, 8};
  std::mt19937_64 rng(3);
  const RepeatBatch batch = make_repeat_batch(spec, 200, rng);
  ASSERT_EQ(batch.tokens.size(), 200u * 64u);
  std::set<int64_t> lengths(batch.copy_lengths.begin(), batch.copy_lengths.end());
  EXPECT_EQ(*lengths.begin(), 8);
  EXPECT_EQ(*lengths.rbegin(), 32);
  EXPECT_GT(lengths.size(), 15u);
  for (int b = 0; b < 200; ++b) {
    const int64_t m = batch.copy_lengths[b];
    for (int64_t i = 0; i < m; ++i) EXPECT_EQ(batch.tokens[b * 64 + 64 - 2 * m + i], batch.tokens[b * 64 + 64 - m + i]);
  }
  EXPECT_THROW(make_repeat_batch(RepeatSpec{64, 32, 40}, 1, rng), std::invalid_argument);
}

TEST(TinyGptRepeat, ABigramChainFirstCopyWalksTheFixedTableAndStillRepeats) {
  RepeatSpec spec{64, 32, 8};
  spec.successors = 4;
  const auto table = successor_table(spec);
  ASSERT_EQ(table.size(), 64u);
  for (const auto& row : table) {
    ASSERT_EQ(row.size(), 4u);
    EXPECT_EQ(std::set<int64_t>(row.begin(), row.end()).size(), 4u);  // distinct successors
  }
  EXPECT_EQ(successor_table(spec), table);  // fixed by chain_seed, not by the batch's rng
  std::mt19937_64 rng(5);
  const RepeatBatch batch = make_repeat_batch(spec, 100, rng);
  std::set<std::pair<int64_t, int64_t>> bigrams;
  for (int b = 0; b < 100; ++b) {
    const int64_t* row = batch.tokens.data() + b * 64;
    const int64_t m = batch.copy_lengths[b];
    for (int64_t i = 0; i < m; ++i) EXPECT_EQ(row[64 - 2 * m + i], row[64 - m + i]);
    // Every token before the repeat follows its predecessor by the table.
    for (int64_t i = 1; i < 64 - m; ++i) {
      const auto& next = table[size_t(row[i - 1])];
      EXPECT_NE(std::find(next.begin(), next.end(), row[i]), next.end()) << "row " << b << " position " << i;
      bigrams.insert({row[i - 1], row[i]});
    }
  }
  EXPECT_GT(bigrams.size(), 200u);  // the walk uses most of the table's 256 bigrams
  // Uniform tokens when successors is 0: the batches of before the option.
  EXPECT_TRUE(successor_table(RepeatSpec{64, 32}).empty());
  spec.successors = 65;
  EXPECT_THROW(successor_table(spec), std::invalid_argument);
}

TEST(TinyGptRepeat, CopyRangesCoverTargetsThatNeedLookBack) {
  const CopyRanges r = copy_ranges(64, 32);
  EXPECT_EQ(r.first_begin, 1);
  EXPECT_EQ(r.first_end, 32);
  EXPECT_EQ(r.second_begin, 33);
  EXPECT_EQ(r.second_end, 64);
  const CopyRanges shorter = copy_ranges(64, 10);  // 44 pad tokens, copies at [44, 54) and [54, 64)
  EXPECT_EQ(shorter.first_begin, 45);
  EXPECT_EQ(shorter.second_begin, 55);
  EXPECT_THROW(copy_ranges(64, 33), std::invalid_argument);
}

TEST(TinyGptKjv, StripsVerseReferences) {
  EXPECT_EQ(strip_verse_references("Ge1:1 In the beginning God\n1Co13:4 Charity suffereth long\nplain line\n"),
            "In the beginning God\nCharity suffereth long\nplain line\n");
}

TEST(TinyGptKjv, VocabularyRoundTrip) {
  const CharVocabulary vocabulary("abca\n");
  EXPECT_EQ(vocabulary.size(), 4);
  EXPECT_EQ(vocabulary.encode("cab\n"), (std::vector<int64_t>{3, 1, 2, 0}));
  EXPECT_EQ(vocabulary.token_strings()[1], "a");
  EXPECT_THROW(vocabulary.encode("z"), std::invalid_argument);
}

TEST(TinyGptKjv, SplitAndWindows) {
  std::vector<int64_t> ids(1000);
  for (int i = 0; i < 1000; ++i) ids[i] = i;
  const TextSplit split = split_for_probe(ids, 0.1);
  ASSERT_EQ(split.train.size(), 900u);
  ASSERT_EQ(split.probe.size(), 100u);
  EXPECT_EQ(split.probe.front(), 900);
  EXPECT_EQ(leading_windows(split.probe, 2, 10)[10], 910);
  std::mt19937_64 rng(1);
  const auto windows = sample_windows(split.train, 8, 16, rng);
  ASSERT_EQ(windows.size(), 128u);
  for (int w = 0; w < 8; ++w) {
    for (int i = 1; i < 16; ++i) EXPECT_EQ(windows[w * 16 + i], windows[w * 16 + i - 1] + 1);  // contiguous
    EXPECT_LT(windows[w * 16 + 15], 900);
  }
  EXPECT_THROW(leading_windows(split.probe, 20, 10), std::invalid_argument);
}

// The packaged Bible (Debian bible-kjv + bible-kjv-text), as the job reads it.
TEST(TinyGptKjv, PackagedTextLoads) {
  if (!std::ifstream("/usr/bin/bible") || !std::ifstream("/usr/lib/bible.data")) {
    GTEST_SKIP() << "bible-kjv / bible-kjv-text not installed";
  }
  const std::string text = load_kjv_text();
  EXPECT_GT(text.size(), 4000000u);
  EXPECT_EQ(text.rfind("In the beginning God created the heaven and the earth.\n", 0), 0u);
  EXPECT_EQ(text.find("Ge1:"), std::string::npos);
  const CharVocabulary vocabulary(text);
  EXPECT_GE(vocabulary.size(), 50);
  EXPECT_LE(vocabulary.size(), 80);
  const auto ids = vocabulary.encode(text);
  const double h2 = bigram_entropy(ids, vocabulary.size());
  EXPECT_NEAR(h2, 2.26, 0.05);  // the KJV text's character bigram entropy, measured
  EXPECT_GT(unigram_entropy(ids, vocabulary.size()), h2 + 0.5);
}

}  // namespace
}  // namespace cw
