#include "examples/tinygpt/repeat_dataset.h"

#include <stdexcept>
#include <string>

namespace cw {

void RepeatSpec::validate() const {
  if (vocab_size < 2) throw std::invalid_argument("repeat: vocab size must be at least 2");
  if (half_length < 2) {
    throw std::invalid_argument("repeat: half length must be at least 2, got " + std::to_string(half_length));
  }
}

std::vector<int64_t> make_repeat_batch(const RepeatSpec& spec, int64_t batch, std::mt19937_64& rng) {
  spec.validate();
  const int64_t n = spec.half_length, length = spec.sequence_length();
  std::uniform_int_distribution<int64_t> token(0, spec.vocab_size - 1);
  std::vector<int64_t> tokens(size_t(batch * length));
  for (int64_t b = 0; b < batch; ++b) {
    int64_t* row = tokens.data() + b * length;
    for (int64_t i = 0; i < n; ++i) row[i] = row[n + i] = token(rng);
  }
  return tokens;
}

CopyRanges copy_ranges(const RepeatSpec& spec) {
  spec.validate();
  const int64_t n = spec.half_length;
  return {1, n, n + 1, 2 * n};
}

}  // namespace cw
