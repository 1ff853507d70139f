#include "crosscoder/refit_ablation.h"

#include <algorithm>
#include <cmath>
#include <utility>

namespace cw {
namespace {

// For each of `vectors` (each `d` long), its squared distance from the span
// of the others: 1 / [G⁻¹]_aa for their Gram G, one Gauss-Jordan for all.
// A ridge of 1e-9 × the largest diagonal keeps exact duplicates (a singular
// G) finite: their distances come out ≈ 0, as they are. `own`, when given,
// receives each vector's squared norm (G's diagonal).
std::vector<double> distances_sq_from_others(const std::vector<const float*>& vectors, int64_t d,
                                             std::vector<double>* own_out = nullptr) {
  const int64_t n = static_cast<int64_t>(vectors.size());
  std::vector<double> g(n * n), inv(n * n, 0.0), own(n);
  double largest = 0;
  for (int64_t i = 0; i < n; ++i) {
    for (int64_t j = i; j < n; ++j) {
      double dot = 0;
      for (int64_t k = 0; k < d; ++k) dot += double(vectors[i][k]) * vectors[j][k];
      g[i * n + j] = g[j * n + i] = dot;
    }
    own[i] = g[i * n + i];
    largest = std::max(largest, own[i]);
    inv[i * n + i] = 1;
  }
  if (own_out) *own_out = own;
  if (n == 1) return own;
  for (int64_t i = 0; i < n; ++i) g[i * n + i] += 1e-9 * largest;
  for (int64_t c = 0; c < n; ++c) {
    int64_t pivot = c;
    for (int64_t r = c + 1; r < n; ++r)
      if (std::fabs(g[r * n + c]) > std::fabs(g[pivot * n + c])) pivot = r;
    if (pivot != c)
      for (int64_t k = 0; k < n; ++k) std::swap(g[c * n + k], g[pivot * n + k]), std::swap(inv[c * n + k], inv[pivot * n + k]);
    const double p = g[c * n + c];
    if (!(std::fabs(p) > 0)) return std::vector<double>(n, 0.0);  // all-zero rows
    for (int64_t k = 0; k < n; ++k) g[c * n + k] /= p, inv[c * n + k] /= p;
    for (int64_t r = 0; r < n; ++r) {
      if (r == c || g[r * n + c] == 0) continue;
      const double factor = g[r * n + c];
      for (int64_t k = 0; k < n; ++k) g[r * n + k] -= factor * g[c * n + k], inv[r * n + k] -= factor * inv[c * n + k];
    }
  }
  std::vector<double> out(n);
  for (int64_t a = 0; a < n; ++a) {
    const double diagonal = inv[a * n + a];
    out[a] = diagonal > 0 ? std::min(own[a], 1.0 / diagonal) : 0.0;
  }
  return out;
}

}  // namespace

RefitAblation::RefitAblation(const float* decoder, int64_t n_features, int64_t d_model)
    : decoder_(decoder), n_features_(n_features), d_model_(d_model), energy_(n_features, 0.0),
      missing_(n_features, 0.0), row_read_(n_features * d_model), read_at_(n_features, -1), rows_of_(n_features) {}

void RefitAblation::add_row(int64_t head, const int64_t* features, const float* values, int64_t n) {
  const int64_t row = static_cast<int64_t>(begin_.size()) - 1;
  head_.push_back(head);
  const float* decoder = decoder_ + head * n_features_ * d_model_;
  features_.insert(features_.end(), features, features + n);
  values_.insert(values_.end(), values, values + n);
  begin_.push_back(static_cast<int64_t>(features_.size()));
  std::vector<const float*> vectors(n);
  for (int64_t a = 0; a < n; ++a) vectors[a] = decoder + features[a] * d_model_;
  for (int64_t a = 0; a < n; ++a)
    if (read_at_[features[a]] < 0) {
      std::copy(vectors[a], vectors[a] + d_model_, row_read_.begin() + features[a] * d_model_);
      read_at_[features[a]] = head;
    }
  std::vector<double> own;
  const auto distance_sq = distances_sq_from_others(vectors, d_model_, &own);
  for (int64_t a = 0; a < n; ++a) {
    const double f2 = double(values[a]) * values[a];
    energy_[features[a]] += f2 * own[a];
    missing_[features[a]] += f2 * distance_sq[a];
    distance_sq_.push_back(distance_sq[a]);
    rows_of_[features[a]].push_back(row);
  }
}

double RefitAblation::unexplained(int64_t feature) const {
  return energy_[feature] > 0 ? missing_[feature] / energy_[feature] : 1.0;
}

std::vector<char> RefitAblation::moved_rows() const {
  // One head per latent is compared, the first it was read at: the edits
  // between add_row() and foldable() (a merge's keeper) change every head.
  std::vector<char> moved(n_features_, 0);
  for (int64_t j = 0; j < n_features_; ++j) {
    if (read_at_[j] < 0) continue;
    const float* now = decoder_ + (read_at_[j] * n_features_ + j) * d_model_;
    moved[j] = !std::equal(row_read_.begin() + j * d_model_, row_read_.begin() + (j + 1) * d_model_, now);
  }
  return moved;
}

double RefitAblation::missing(int64_t feature, const std::vector<char>& gone, const std::vector<char>& moved) const {
  double total = 0;
  std::vector<const float*> vectors;
  for (const int64_t row : rows_of_[feature]) {
    int64_t self_entry = -1;
    bool changed = false;
    for (int64_t i = begin_[row]; i < begin_[row + 1]; ++i) {
      if (features_[i] == feature) self_entry = i;
      else changed |= gone[features_[i]] != 0;
      changed |= moved[features_[i]] != 0;
    }
    const double value_sq = double(values_[self_entry]) * values_[self_entry];
    if (!changed) {  // the row as added: its distance is known
      total += value_sq * distance_sq_[self_entry];
      continue;
    }
    vectors.clear();
    int64_t self = -1;
    const float* decoder = decoder_ + head_[row] * n_features_ * d_model_;
    for (int64_t i = begin_[row]; i < begin_[row + 1]; ++i) {
      if (features_[i] == feature) self = static_cast<int64_t>(vectors.size());
      else if (gone[features_[i]]) continue;
      vectors.push_back(decoder + features_[i] * d_model_);
    }
    total += value_sq * distances_sq_from_others(vectors, d_model_)[self];
  }
  return total;
}

std::vector<int64_t> RefitAblation::foldable(double max_unexplained, std::vector<char> gone) const {
  gone.resize(n_features_, 0);
  bool any_gone = std::find(gone.begin(), gone.end(), 1) != gone.end();
  std::vector<int64_t> candidates;
  for (int64_t j = 0; j < n_features_; ++j)
    if (!gone[j] && energy_[j] > 0 && unexplained(j) < max_unexplained) candidates.push_back(j);
  std::sort(candidates.begin(), candidates.end(),
            [&](int64_t a, int64_t b) { return energy_[a] != energy_[b] ? energy_[a] < energy_[b] : a < b; });
  const std::vector<char> moved = moved_rows();
  std::vector<int64_t> out;
  for (const int64_t j : candidates) {
    // Unchanged unless a latent it shares a row with is gone.
    if (any_gone && missing(j, gone, moved) >= max_unexplained * energy_[j]) continue;
    gone[j] = 1;
    any_gone = true;
    out.push_back(j);
  }
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace cw
