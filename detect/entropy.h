// Entropies of the probe set in nats, the yardsticks the paper reads the
// training loss against: a model that has learnt token frequencies reaches
// the unigram entropy, one that has learnt which token follows which reaches
// the conditional bigram entropy. Ge et al. 2025 ("Evolution of Concepts in
// Language Model Pre-Training") found the loss approaching these entropies
// at the turning point where most features form ("statistical learning"),
// then going below them ("feature learning"); detect/phase.h labels that.
#ifndef CW_DETECT_ENTROPY_H_
#define CW_DETECT_ENTROPY_H_

#include <cstddef>
#include <cstdint>
#include <vector>

namespace cw {

struct ProbeEntropy {
  double unigram = 0;   // H(X) over every probe token
  double bigram = 0;    // H(X_t | X_{t-1}) over pairs inside a sequence
  // The same with the Miller–Madow correction, + (bins seen − 1) / 2n for
  // each entropy: plug-in estimates run low on a small sample (a 16 × 64
  // character KJV probe gives a bigram entropy of 2.10 plug-in, 2.21
  // corrected, 2.29 on the whole held-out text). What the daemon uses.
  double unigram_corrected = 0;
  double bigram_corrected = 0;
  uint64_t tokens = 0;  // tokens counted for `unigram`
  uint64_t pairs = 0;   // (previous, next) pairs counted for `bigram`
};

// `token_ids` holds n_sequences * sequence_length ids, row-major, as the wire's
// ProbeSet does. Pairs never cross a sequence boundary. Both entropies are the
// plug-in (empirical) estimates. Throws std::invalid_argument when
// sequence_length is 0, does not divide the token count, or there are no
// tokens; `bigram` is 0 when sequences have length 1 (no pairs).
ProbeEntropy probe_entropy(const std::vector<uint32_t>& token_ids, size_t sequence_length);

}  // namespace cw

#endif  // CW_DETECT_ENTROPY_H_
