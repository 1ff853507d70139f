#include "examples/tinygpt/repeat_dataset.h"

#include <algorithm>
#include <numeric>
#include <stdexcept>
#include <string>

namespace cw {

void RepeatSpec::validate() const {
  if (vocab_size < 2) throw std::invalid_argument("repeat: vocab size must be at least 2");
  if (half_length < 2) {
    throw std::invalid_argument("repeat: half length must be at least 2, got " + std::to_string(half_length));
  }
  if (min_half_length != 0 && (min_half_length < 2 || min_half_length > half_length)) {
    throw std::invalid_argument("repeat: min half length must be 0 (fixed) or in [2, " + std::to_string(half_length) +
                                "], got " + std::to_string(min_half_length));
  }
  if (successors < 0 || successors > vocab_size) {
    throw std::invalid_argument("repeat: successors must be 0 (uniform tokens) or in [1, " + std::to_string(vocab_size) +
                                "], got " + std::to_string(successors));
  }
}

std::vector<std::vector<int64_t>> successor_table(const RepeatSpec& spec) {
  spec.validate();
  std::vector<std::vector<int64_t>> table;
  if (spec.successors == 0) return table;
  std::mt19937_64 rng(spec.chain_seed);
  std::vector<int64_t> tokens(size_t(spec.vocab_size));
  for (int64_t t = 0; t < spec.vocab_size; ++t) {
    std::iota(tokens.begin(), tokens.end(), 0);
    // The first k of a partial Fisher-Yates shuffle: k distinct successors.
    for (int64_t i = 0; i < spec.successors; ++i) {
      std::uniform_int_distribution<int64_t> pick(i, spec.vocab_size - 1);
      std::swap(tokens[size_t(i)], tokens[size_t(pick(rng))]);
    }
    table.emplace_back(tokens.begin(), tokens.begin() + spec.successors);
  }
  return table;
}

RepeatBatch make_repeat_batch(const RepeatSpec& spec, int64_t rows, std::mt19937_64& rng) {
  spec.validate();
  const int64_t length = spec.sequence_length();
  std::uniform_int_distribution<int64_t> token(0, spec.vocab_size - 1);
  std::uniform_int_distribution<int64_t> copy_length(spec.shortest_copy(), spec.half_length);
  const auto table = successor_table(spec);
  std::uniform_int_distribution<int64_t> successor(0, std::max<int64_t>(spec.successors - 1, 0));
  // Each row's tokens before the copy's repeat: uniform, or a walk on the chain.
  auto next = [&](const int64_t* previous) {
    return table.empty() || previous == nullptr ? token(rng) : table[size_t(*previous)][size_t(successor(rng))];
  };
  RepeatBatch batch;
  batch.tokens.resize(size_t(rows * length));
  for (int64_t b = 0; b < rows; ++b) {
    // A fixed layout draws no copy length, so fixed-n batches do not depend
    // on whether the variable layout exists.
    const int64_t m = spec.shortest_copy() == spec.half_length ? spec.half_length : copy_length(rng);
    int64_t* row = batch.tokens.data() + b * length;
    const int64_t pad = length - 2 * m;
    for (int64_t i = 0; i < pad + m; ++i) row[i] = next(i > 0 ? &row[i - 1] : nullptr);
    for (int64_t i = 0; i < m; ++i) row[pad + m + i] = row[pad + i];
    batch.copy_lengths.push_back(m);
  }
  return batch;
}

CopyRanges copy_ranges(int64_t sequence_length, int64_t copy_length) {
  const int64_t T = sequence_length, m = copy_length;
  if (m < 2 || 2 * m > T) {
    throw std::invalid_argument("repeat: copy length " + std::to_string(m) + " does not fit twice in " +
                                std::to_string(T) + " tokens");
  }
  return {T - 2 * m + 1, T - m, T - m + 1, T};
}

}  // namespace cw
