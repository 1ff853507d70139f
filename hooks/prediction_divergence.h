// How far a language model's next-token predictions on the probe set are
// from the probe set's own unigram and bigram statistics: the paper's
// training-phase scalars (a model first learns the unigram distribution,
// then the bigram one, then departs from both). Torch-free.
//
//   kl_unigram = mean over probe positions i of KL(p_model(·|x_≤i) ‖ q_uni)
//   kl_bigram  = mean over probe positions i of KL(p_model(·|x_≤i) ‖ q_bi(·|x_i))
//
// Direction KL(model ‖ n-gram): the expectation is under the model's own
// prediction, so it needs no target token (every position counts, the last
// of a sequence too) and reads "how many nats the model's prediction
// carries beyond the n-gram's"; it is 0 exactly when the model predicts
// the n-gram distribution. The n-gram side is smoothed so it is never 0:
//   q_uni(v)    = (c(v) + 1/V) / (N + 1)               one pseudo-count spread over the vocabulary
//   q_bi(v | u) = (c(u v) + q_uni(v)) / (c(u) + 1)     one pseudo-count from the unigram
// with c counted over the probe's N tokens and its in-sequence pairs, c(u)
// the number of pairs starting with u. One pseudo-count each: the smallest
// that keeps every probability positive without moving a seen bigram's
// probability by more than 1/(c(u)+1); a token never seen after u keeps the
// unigram's ranking.
#ifndef CW_HOOKS_PREDICTION_DIVERGENCE_H_
#define CW_HOOKS_PREDICTION_DIVERGENCE_H_

#include <cstdint>
#include <utility>
#include <vector>

namespace cw {

struct PredictionDivergence {
  double kl_unigram = 0;  // nats, mean over positions
  double kl_bigram = 0;
};

class NgramReference {
 public:
  // `tokens`: the probe set, whole sequences of `sequence_length` ids, each
  // < vocab_size. Throws std::invalid_argument otherwise.
  NgramReference(const std::vector<uint32_t>& tokens, int64_t sequence_length, int64_t vocab_size);

  // `logits`: row-major [tokens.size() × vocab_size], the model's output at
  // each probe position (logits or log-probabilities: they are
  // log-softmaxed, which leaves log-probabilities as they are).
  PredictionDivergence divergence(const float* logits) const;

  double unigram(uint32_t v) const;              // q_uni(v)
  double bigram(uint32_t u, uint32_t v) const;   // q_bi(v | u)
  int64_t vocab_size() const { return vocab_size_; }

 private:
  std::vector<uint32_t> tokens_;
  int64_t sequence_length_ = 0, vocab_size_ = 0;
  std::vector<double> log_unigram_;
  std::vector<int64_t> pairs_from_;  // c(u)
  // Per u: the tokens seen after it and their counts.
  std::vector<std::vector<std::pair<uint32_t, int64_t>>> successors_;
};

}  // namespace cw

#endif  // CW_HOOKS_PREDICTION_DIVERGENCE_H_
