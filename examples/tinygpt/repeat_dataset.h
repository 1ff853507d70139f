// The induction ground truth: sequences of n uniformly random tokens
// followed by the same n tokens again. The first copy is unpredictable
// (loss ln vocab at best); the second copy is predictable only by looking
// back, which is what induction heads learn to do, abruptly.
//
// With a fixed n the copy sits at a fixed offset, so even a 1-layer model can
// solve it with a purely positional head (attend n-1 back, copy). Setting
// min_half_length < half_length draws each row's copy length m from
// [min_half_length, half_length] and fills the front with 2(n-m) random
// tokens: the offset varies per row, only content-based (induction) look-up
// works, and the sequence length stays 2n.
#ifndef CW_EXAMPLES_TINYGPT_REPEAT_DATASET_H_
#define CW_EXAMPLES_TINYGPT_REPEAT_DATASET_H_

#include <cstdint>
#include <random>
#include <vector>

namespace cw {

struct RepeatSpec {
  int64_t vocab_size = 64;
  int64_t half_length = 32;      // n; each sequence has 2n tokens
  int64_t min_half_length = 0;   // 0: every copy is n long (fixed offset)
  // 0: every token of the first copy uniformly random. k > 0: drawn from a
  // fixed bigram chain in which each token is followed by one of k
  // successors (each 1/k; the table is fixed by chain_seed), so the first
  // copy holds bigram statistics to learn before induction, at ln k nats.
  int64_t successors = 0;
  uint64_t chain_seed = 20261205;

  int64_t sequence_length() const { return 2 * half_length; }
  int64_t shortest_copy() const { return min_half_length > 0 ? min_half_length : half_length; }
  void validate() const;  // throws std::invalid_argument
};

struct RepeatBatch {
  std::vector<int64_t> tokens;        // [rows × 2n], tokens in [0, vocab_size)
  std::vector<int64_t> copy_lengths;  // per row m: tokens [2n-2m, 2n-m) equal [2n-m, 2n)
};

RepeatBatch make_repeat_batch(const RepeatSpec& spec, int64_t rows, std::mt19937_64& rng);

// The chain's table: row t holds the `successors` tokens that may follow t,
// distinct, drawn from chain_seed alone. Empty when successors is 0.
std::vector<std::vector<int64_t>> successor_table(const RepeatSpec& spec);

// Target positions (the index of the predicted token) of the two copies of
// a row with copy length m whose losses the job reports: the first copy's
// [2n-2m+1, 2n-m) and the second copy's [2n-m+1, 2n). The second copy's
// first token is left out of both: predicting it needs no look-back by
// content. For m = n these are [1, n) and [n+1, 2n).
struct CopyRanges {
  int64_t first_begin, first_end, second_begin, second_end;
};
CopyRanges copy_ranges(int64_t sequence_length, int64_t copy_length);

}  // namespace cw

#endif  // CW_EXAMPLES_TINYGPT_REPEAT_DATASET_H_
