#include "examples/tinygpt/char_entropy.h"

#include <cmath>
#include <stdexcept>
#include <string>

namespace cw {

namespace {

double entropy_of_counts(const std::vector<double>& counts, double total) {
  double h = 0;
  for (double c : counts) {
    if (c > 0) h -= c / total * std::log(c / total);
  }
  return h;
}

void check_ids(const std::vector<int64_t>& ids, int64_t vocab_size, size_t min_size) {
  if (ids.size() < min_size) throw std::invalid_argument("entropy: need at least " + std::to_string(min_size) + " ids");
  for (int64_t id : ids) {
    if (id < 0 || id >= vocab_size) {
      throw std::invalid_argument("entropy: id " + std::to_string(id) + " outside [0, " + std::to_string(vocab_size) + ")");
    }
  }
}

}  // namespace

double unigram_entropy(const std::vector<int64_t>& ids, int64_t vocab_size) {
  check_ids(ids, vocab_size, 1);
  std::vector<double> counts(size_t(vocab_size), 0.0);
  for (int64_t id : ids) counts[size_t(id)] += 1;
  return entropy_of_counts(counts, double(ids.size()));
}

// H(X_t | X_{t-1}) = H(X_{t-1}, X_t) - H(X_{t-1}), both over the same pairs.
double bigram_entropy(const std::vector<int64_t>& ids, int64_t vocab_size) {
  check_ids(ids, vocab_size, 2);
  const size_t v = size_t(vocab_size);
  std::vector<double> pairs(v * v, 0.0), previous(v, 0.0);
  for (size_t i = 1; i < ids.size(); ++i) {
    pairs[size_t(ids[i - 1]) * v + size_t(ids[i])] += 1;
    previous[size_t(ids[i - 1])] += 1;
  }
  const double total = double(ids.size() - 1);
  return entropy_of_counts(pairs, total) - entropy_of_counts(previous, total);
}

}  // namespace cw
