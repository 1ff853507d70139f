#include "examples/planted/planted_dictionary.h"

#include <algorithm>
#include <cmath>
#include <random>
#include <stdexcept>

namespace cw {

namespace {

void normalise(float* v, int64_t d) {
  double n = 0;
  for (int64_t j = 0; j < d; ++j) n += double(v[j]) * v[j];
  n = std::sqrt(std::max(n, 1e-30));
  for (int64_t j = 0; j < d; ++j) v[j] = static_cast<float>(v[j] / n);
}

}  // namespace

double PlantedDictionary::mean_active(int64_t snapshot) const {
  const int64_t K = options.n_atoms;
  double count = 0;
  for (int64_t i = 0; i < options.n_tokens; ++i)
    for (int64_t k = 0; k < K; ++k) count += (coefficients[i * K + k] > 0 && is_on(k, snapshot)) ? 1 : 0;
  return count / static_cast<double>(options.n_tokens);
}

double PlantedDictionary::scale(int64_t snapshot) const {
  if (options.scale_growth == 1.0 || options.n_snapshots < 2) return 1.0;
  return std::pow(options.scale_growth, double(snapshot) / double(options.n_snapshots - 1));
}

PlantedOptions recovery_fixture() {
  PlantedOptions o;
  o.d_model = 32;
  o.n_atoms = 32;
  o.n_snapshots = 8;
  o.n_tokens = 4096;
  o.active_per_token = 3;
  o.noise = 0.01;
  o.n_fading = 4;
  o.seed = 11;
  return o;
}

PlantedDictionary make_planted_dictionary(const PlantedOptions& o) {
  if (o.d_model <= 0 || o.n_atoms <= 0 || o.n_snapshots <= 0 || o.n_tokens <= 0)
    throw std::invalid_argument("planted: sizes must be positive");
  if (o.n_fading < 0 || o.n_fading > o.n_atoms) throw std::invalid_argument("planted: n_fading must be in [0, n_atoms]");
  if (o.n_initial < 0 || o.n_rare < 0 || o.n_fading + o.n_initial + o.n_rare > o.n_atoms)
    throw std::invalid_argument("planted: n_fading + n_initial + n_rare must be at most n_atoms");
  if (o.rare_frequency <= 0 || o.rare_frequency > 1) throw std::invalid_argument("planted: rare_frequency must be in (0, 1]");
  if (o.fading_strength <= 0) throw std::invalid_argument("planted: fading_strength must be positive");
  if (o.scale_growth <= 0) throw std::invalid_argument("planted: scale_growth must be positive");
  if (o.spread_from_snapshot < 0 || o.spread_from_snapshot >= o.n_snapshots)
    throw std::invalid_argument("planted: spread_from_snapshot must be in [0, n_snapshots)");
  if (o.active_per_token <= 0 || o.active_per_token > o.n_atoms)
    throw std::invalid_argument("planted: active_per_token must be in (0, n_atoms]");
  const int64_t d = o.d_model, K = o.n_atoms, T = o.n_snapshots, N = o.n_tokens;
  std::mt19937_64 rng(o.seed);
  std::normal_distribution<double> gauss(0.0, 1.0);
  std::uniform_real_distribution<double> unit(0.0, 1.0);

  PlantedDictionary p;
  p.options = o;
  p.onset.assign(K, 0);
  p.fade.assign(K, T);
  // The first n_fading atoms are on from snapshot 0 and fade at evenly spread
  // snapshots in the first half; the rest switch on spread over the run.
  const int64_t mass_count =
      o.mass_emergence_snapshot >= 0
          ? static_cast<int64_t>(std::round(o.mass_emergence_fraction * (K - o.n_fading - o.n_initial - o.n_rare)))
          : 0;
  const int64_t fade_span = o.fade_by_snapshot > 0 ? o.fade_by_snapshot : std::max<int64_t>(1, T / 2);
  for (int64_t k = 0; k < (o.stationary ? 0 : o.n_fading); ++k) p.fade[k] = std::max<int64_t>(1, 1 + k * fade_span / std::max<int64_t>(1, o.n_fading));
  const int64_t n_rising = o.stationary ? 0 : K - o.n_fading;
  if (o.stationary) p.fade.assign(K, T);
  for (int64_t r = 0; r < n_rising; ++r) {
    const int64_t k = o.n_fading + r;
    // The atoms outside the mass emergence spread their onsets over the run.
    const int64_t stable = o.n_initial + o.n_rare;  // onset 0
    const int64_t spread = r - stable - mass_count;
    const int64_t n_spread = std::max<int64_t>(1, n_rising - stable - mass_count);
    if (r < stable) continue;
    const int64_t from = o.spread_from_snapshot;
    p.onset[k] = (r < stable + mass_count) ? std::min(o.mass_emergence_snapshot, T - 1)
                                           : from + (spread * (T - from)) / n_spread;
  }

  p.atoms.assign(T, std::vector<float>(K * d));
  for (int64_t k = 0; k < K; ++k) {
    float* a = &p.atoms[0][k * d];
    for (int64_t j = 0; j < d; ++j) a[j] = static_cast<float>(gauss(rng));
    normalise(a, d);
  }
  for (int64_t t = 1; t < T; ++t)
    for (int64_t k = 0; k < K; ++k) {
      float* a = &p.atoms[t][k * d];
      const float* prev = &p.atoms[t - 1][k * d];
      const double step = o.drift / std::sqrt(static_cast<double>(d));
      for (int64_t j = 0; j < d; ++j) a[j] = static_cast<float>(prev[j] + step * gauss(rng));
      normalise(a, d);
    }

  const double p_on = o.active_per_token / static_cast<double>(K);
  std::uniform_real_distribution<double> magnitude(o.min_coefficient, o.max_coefficient);
  p.coefficients.assign(N * K, 0.f);
  const int64_t rare_begin = o.stationary ? K : o.n_fading + o.n_initial, rare_end = rare_begin + o.n_rare;
  for (int64_t i = 0; i < N; ++i)
    for (int64_t k = 0; k < K; ++k) {
      const double p_atom = (k >= rare_begin && k < rare_end) ? p_on * o.rare_frequency : p_on;
      if (unit(rng) >= p_atom) continue;
      const double strength = (k < o.n_fading && !o.stationary) ? o.fading_strength : 1.0;
      p.coefficients[i * K + k] = static_cast<float>(strength * magnitude(rng));
    }

  p.activations.assign(T, std::vector<float>(N * d));
  for (int64_t t = 0; t < T; ++t) {
    float* x = p.activations[t].data();
    for (int64_t i = 0; i < N; ++i) {
      float* row = x + i * d;
      for (int64_t k = 0; k < K; ++k) {
        const float c = p.coefficients[i * K + k];
        if (c == 0 || !p.is_on(k, t)) continue;
        const float* a = &p.atoms[t][k * d];
        for (int64_t j = 0; j < d; ++j) row[j] += c * a[j];
      }
      for (int64_t j = 0; j < d; ++j) row[j] += static_cast<float>(o.noise * gauss(rng));
    }
    const float scale = static_cast<float>(p.scale(t));
    if (scale != 1.f)
      for (int64_t j = 0; j < N * d; ++j) x[j] *= scale;
  }
  return p;
}

}  // namespace cw
