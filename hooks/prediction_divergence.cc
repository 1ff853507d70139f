#include "hooks/prediction_divergence.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <stdexcept>
#include <string>

namespace cw {

NgramReference::NgramReference(const std::vector<uint32_t>& tokens, int64_t sequence_length, int64_t vocab_size)
    : tokens_(tokens), sequence_length_(sequence_length), vocab_size_(vocab_size) {
  if (vocab_size <= 0) throw std::invalid_argument("prediction divergence: vocab_size must be positive");
  if (sequence_length <= 0 || tokens.empty() || tokens.size() % std::size_t(sequence_length) != 0)
    throw std::invalid_argument("prediction divergence: " + std::to_string(tokens.size()) +
                                " probe tokens are not whole sequences of " + std::to_string(sequence_length));
  std::vector<int64_t> count(vocab_size, 0);
  std::vector<std::map<uint32_t, int64_t>> pairs(vocab_size);
  pairs_from_.assign(vocab_size, 0);
  for (std::size_t i = 0; i < tokens.size(); ++i) {
    if (tokens[i] >= uint64_t(vocab_size))
      throw std::invalid_argument("prediction divergence: probe token " + std::to_string(tokens[i]) +
                                  " is outside the vocabulary of " + std::to_string(vocab_size));
    ++count[tokens[i]];
    if ((i + 1) % std::size_t(sequence_length) != 0) {  // not the last of its sequence
      ++pairs[tokens[i]][tokens[i + 1]];
      ++pairs_from_[tokens[i]];
    }
  }
  const double n = double(tokens.size());
  log_unigram_.resize(vocab_size);
  for (int64_t v = 0; v < vocab_size; ++v) log_unigram_[v] = std::log((count[v] + 1.0 / vocab_size) / (n + 1));
  successors_.resize(vocab_size);
  for (int64_t u = 0; u < vocab_size; ++u) successors_[u].assign(pairs[u].begin(), pairs[u].end());
}

double NgramReference::unigram(uint32_t v) const { return std::exp(log_unigram_.at(v)); }

double NgramReference::bigram(uint32_t u, uint32_t v) const {
  int64_t c = 0;
  for (const auto& [w, n] : successors_.at(u))
    if (w == v) c = n;
  return (c + unigram(v)) / (pairs_from_[u] + 1.0);
}

PredictionDivergence NgramReference::divergence(const float* logits) const {
  // Per position, with p the model's distribution and u the current token:
  //   KL(p ‖ q_uni) = Σ p log p − Σ p log q_uni
  //   KL(p ‖ q_bi)  = Σ p log p − Σ p log q_uni − log(1/(c(u)+1))
  //                   − Σ_{v after u} p(v) [log(c(u v) + q_uni(v)) − log q_uni(v)]
  // (q_bi(v|u) = q_uni(v)/(c(u)+1) for every v never seen after u), so a
  // position costs O(V + successors of u), not O(V²).
  const int64_t V = vocab_size_;
  double kl_unigram = 0, kl_bigram = 0;
  std::vector<double> log_p(V);
  for (std::size_t i = 0; i < tokens_.size(); ++i) {
    const float* z = logits + i * V;
    const double max = *std::max_element(z, z + V);
    double sum = 0;
    for (int64_t v = 0; v < V; ++v) sum += std::exp(double(z[v]) - max);
    const double log_sum = max + std::log(sum);
    double neg_entropy = 0, cross_unigram = 0;
    for (int64_t v = 0; v < V; ++v) {
      log_p[v] = double(z[v]) - log_sum;
      const double p = std::exp(log_p[v]);
      neg_entropy += p * log_p[v];
      cross_unigram += p * log_unigram_[v];
    }
    const uint32_t u = tokens_[i];
    double seen = 0;
    for (const auto& [v, c] : successors_[u]) {
      const double q = std::exp(log_unigram_[v]);
      seen += std::exp(log_p[v]) * (std::log(c + q) - log_unigram_[v]);
    }
    kl_unigram += neg_entropy - cross_unigram;
    kl_bigram += neg_entropy - cross_unigram + std::log(pairs_from_[u] + 1.0) - seen;
  }
  const double n = double(tokens_.size());
  return {kl_unigram / n, kl_bigram / n};
}

}  // namespace cw
