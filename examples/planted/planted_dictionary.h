// Planted features: synthetic per-snapshot activations built from a known
// sparse dictionary whose atoms switch on (and off) at known snapshots.
//
// Token i's activation at snapshot t is
//   x_i^t = Σ_k on_k(t) · c_ik · a_k^t + noise,
// with unit atoms a_k^t drifting slowly between snapshots, on_k(t) =
// [onset_k ≤ t < fade_k], and coefficients c_ik ≥ 0 sparse and tied across
// snapshots (the same token has the same coefficient wherever k is on); the
// whole of x^t (noise too) is then multiplied by scale_growth^(t / (T − 1)).
//
// Atoms in index order: n_fading (on from 0, fading early), n_initial (on
// throughout), n_rare (on throughout, on rare_frequency × as many tokens),
// the mass emergence (all switching on at one snapshot), then the rest,
// switching on one by one spread over [spread_from_snapshot, n_snapshots).
// The options after `seed` were added later: at their defaults every stream
// is bit-identical to what the generator gave before them.
#ifndef CW_EXAMPLES_PLANTED_PLANTED_DICTIONARY_H_
#define CW_EXAMPLES_PLANTED_PLANTED_DICTIONARY_H_

#include <cstdint>
#include <vector>

namespace cw {

struct PlantedOptions {
  int64_t d_model = 32;
  int64_t n_atoms = 32;
  int64_t n_snapshots = 8;
  int64_t n_tokens = 4096;
  double active_per_token = 3.0;  // expected non-zero coefficients per token (over all atoms)
  double min_coefficient = 0.5;   // coefficients are uniform in [min, max] where non-zero
  double max_coefficient = 1.5;
  double noise = 0.01;            // Gaussian noise std per dimension
  double drift = 0.05;            // per snapshot, norm of the random step before re-normalising
  int64_t n_fading = 4;           // atoms present from snapshot 0 that fade out (like initialisation features)
  int64_t n_initial = 0;          // further atoms on from snapshot 0 to the end (a stable base)
  int64_t mass_emergence_snapshot = -1;  // >= 0: this share of atoms all switch on here
  double mass_emergence_fraction = 0.25;
  bool stationary = false;        // every atom on at every snapshot: a control with nothing to detect
  uint64_t seed = 1;
  int64_t n_rare = 0;             // atoms on throughout on few tokens: a crosscoder may find them late
  double rare_frequency = 0.25;   // their token frequency relative to the other atoms'
  double fading_strength = 1.0;   // the fading atoms' coefficients times this (< 1: weak early structure)
  int64_t fade_by_snapshot = -1;  // > 0: the fading atoms fade spread over [1, this]; else over the first half
  int64_t spread_from_snapshot = 0;  // the one-by-one atoms switch on spread over [this, n_snapshots)
  double scale_growth = 1.0;      // raw scale at the final snapshot over the first (geometric in between)
};

struct PlantedDictionary {
  PlantedOptions options;
  // atoms[t][k * d + j]: atom k at snapshot t (unit norm).
  std::vector<std::vector<float>> atoms;
  std::vector<int64_t> onset;   // first snapshot where atom k is on
  std::vector<int64_t> fade;    // first snapshot where it is off again (n_snapshots = never)
  std::vector<float> coefficients;  // [n_tokens × n_atoms]
  // activations[t]: row-major [n_tokens × d_model].
  std::vector<std::vector<float>> activations;

  // The raw scale factor of snapshot t (1 at t = 0, scale_growth at the last).
  double scale(int64_t snapshot) const;
  bool is_on(int64_t atom, int64_t snapshot) const { return onset[atom] <= snapshot && snapshot < fade[atom]; }
  // Mean count of atoms with a non-zero coefficient that are on, per token.
  double mean_active(int64_t snapshot) const;
};

// The recovery fixture the tests and docs/CROSSCODER.md measure on: d 32,
// 32 unit atoms (4 fading from snapshot 0), 8 snapshots, 4,096 tokens,
// 3 atoms per token, noise 0.01, seed 11.
PlantedOptions recovery_fixture();

// Deterministic for a given options.seed. Throws std::invalid_argument on
// impossible options.
PlantedDictionary make_planted_dictionary(const PlantedOptions& options);

}  // namespace cw

#endif  // CW_EXAMPLES_PLANTED_PLANTED_DICTIONARY_H_
