#include "examples/tinygpt/repeat_dataset.h"

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
}

RepeatBatch make_repeat_batch(const RepeatSpec& spec, int64_t rows, std::mt19937_64& rng) {
  spec.validate();
  const int64_t length = spec.sequence_length();
  std::uniform_int_distribution<int64_t> token(0, spec.vocab_size - 1);
  std::uniform_int_distribution<int64_t> copy_length(spec.shortest_copy(), spec.half_length);
  RepeatBatch batch;
  batch.tokens.resize(size_t(rows * length));
  for (int64_t b = 0; b < rows; ++b) {
    // A fixed layout draws no copy length, so fixed-n batches do not depend
    // on whether the variable layout exists.
    const int64_t m = spec.shortest_copy() == spec.half_length ? spec.half_length : copy_length(rng);
    int64_t* row = batch.tokens.data() + b * length;
    const int64_t pad = length - 2 * m;
    for (int64_t i = 0; i < pad; ++i) row[i] = token(rng);
    for (int64_t i = 0; i < m; ++i) row[pad + i] = row[pad + m + i] = token(rng);
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
