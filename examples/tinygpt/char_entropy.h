// Entropies of a token sequence, in nats: the losses a model reaches by
// learning token frequencies (unigram) and then one-token context (bigram).
// The job compares its probe loss with them to mark the "statistical
// learning" plateau and the step where the model goes below it.
#ifndef CW_EXAMPLES_TINYGPT_CHAR_ENTROPY_H_
#define CW_EXAMPLES_TINYGPT_CHAR_ENTROPY_H_

#include <cstdint>
#include <vector>

namespace cw {

// H(X) of the empirical token distribution. Ids must lie in [0, vocab_size).
double unigram_entropy(const std::vector<int64_t>& ids, int64_t vocab_size);

// H(X_t | X_{t-1}) of the empirical pair distribution.
double bigram_entropy(const std::vector<int64_t>& ids, int64_t vocab_size);

}  // namespace cw

#endif  // CW_EXAMPLES_TINYGPT_CHAR_ENTROPY_H_
