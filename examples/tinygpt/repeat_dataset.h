// The induction ground truth: sequences of n uniformly random tokens
// followed by the same n tokens again. The first copy is unpredictable
// (loss ln vocab at best); the second copy is predictable only by looking
// back, which is what induction heads learn to do, abruptly.
#ifndef CW_EXAMPLES_TINYGPT_REPEAT_DATASET_H_
#define CW_EXAMPLES_TINYGPT_REPEAT_DATASET_H_

#include <cstdint>
#include <random>
#include <vector>

namespace cw {

struct RepeatSpec {
  int64_t vocab_size = 64;
  int64_t half_length = 32;  // n; each sequence has 2n tokens

  int64_t sequence_length() const { return 2 * half_length; }
  void validate() const;  // throws std::invalid_argument
};

// `batch` sequences, row-major [batch × 2n], tokens in [0, vocab_size).
std::vector<int64_t> make_repeat_batch(const RepeatSpec& spec, int64_t batch, std::mt19937_64& rng);

// Target positions (the index of the predicted token, 1..2n-1) of the two
// copies whose losses the job reports: the first copy's [1, n) and the second
// copy's [n+1, 2n). Position n (the second copy's first token) is left out
// of both: predicting it needs no look-back by content, only by position.
struct CopyRanges {
  int64_t first_begin, first_end, second_begin, second_end;
};
CopyRanges copy_ranges(const RepeatSpec& spec);

}  // namespace cw

#endif  // CW_EXAMPLES_TINYGPT_REPEAT_DATASET_H_
