#include "detect/entropy.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>
#include <unordered_map>

namespace cw {
namespace {

// -sum c/n log(c/n) for counts summing to n.
template <typename Map>
double plug_in_entropy(const Map& counts, double n) {
  double h = 0;
  for (const auto& [key, c] : counts) {
    const double p = static_cast<double>(c) / n;
    h -= p * std::log(p);
  }
  return h;
}

// Miller–Madow: the plug-in estimate's first-order bias is (m − 1) / 2n.
template <typename Map>
double corrected_entropy(const Map& counts, double n) {
  return plug_in_entropy(counts, n) + (static_cast<double>(counts.size()) - 1) / (2 * n);
}

}  // namespace

ProbeEntropy probe_entropy(const std::vector<uint32_t>& token_ids, size_t sequence_length) {
  if (sequence_length == 0) throw std::invalid_argument("probe_entropy: sequence_length must be positive");
  if (token_ids.empty()) throw std::invalid_argument("probe_entropy: the probe set has no tokens");
  if (token_ids.size() % sequence_length != 0)
    throw std::invalid_argument("probe_entropy: " + std::to_string(token_ids.size()) +
                                " tokens are not a whole number of sequences of length " +
                                std::to_string(sequence_length));

  std::unordered_map<uint32_t, uint64_t> unigram;
  std::unordered_map<uint32_t, uint64_t> previous;  // counts of a token as the first of a pair
  std::unordered_map<uint64_t, uint64_t> pair;
  for (size_t i = 0; i < token_ids.size(); ++i) {
    ++unigram[token_ids[i]];
    if (i % sequence_length == 0) continue;  // first token of a sequence: no predecessor
    ++previous[token_ids[i - 1]];
    ++pair[(static_cast<uint64_t>(token_ids[i - 1]) << 32) | token_ids[i]];
  }

  ProbeEntropy result;
  result.tokens = token_ids.size();
  result.pairs = token_ids.size() - token_ids.size() / sequence_length;
  result.unigram = plug_in_entropy(unigram, static_cast<double>(result.tokens));
  result.unigram_corrected = corrected_entropy(unigram, static_cast<double>(result.tokens));
  // H(next | prev) = H(prev, next) - H(prev), both over the same pairs.
  if (result.pairs > 0) {
    const double n = static_cast<double>(result.pairs);
    result.bigram = plug_in_entropy(pair, n) - plug_in_entropy(previous, n);
    if (result.bigram < 0) result.bigram = 0;  // rounding when every pair is determined
    result.bigram_corrected = std::max(0.0, corrected_entropy(pair, n) - corrected_entropy(previous, n));
  }
  return result;
}

}  // namespace cw
