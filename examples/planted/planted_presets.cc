#include "examples/planted/planted_presets.h"

#include <algorithm>
#include <stdexcept>

#include "crosscoder/crosscoder_results.h"

namespace cw {

const char* to_string(PlantedStructure structure) {
  switch (structure) {
    case PlantedStructure::kQuietThenMass: return "quiet-then-mass";
    case PlantedStructure::kMassOnStable: return "mass-on-stable";
    case PlantedStructure::kStaircase: return "staircase";
    case PlantedStructure::kStationary: return "stationary";
  }
  return "?";
}

std::optional<PlantedStructure> parse_planted_structure(const std::string& name) {
  for (auto s : {PlantedStructure::kQuietThenMass, PlantedStructure::kMassOnStable, PlantedStructure::kStaircase,
                 PlantedStructure::kStationary}) {
    if (name == to_string(s)) return s;
  }
  return std::nullopt;
}

PlantedOptions planted_preset(PlantedStructure structure, int64_t d_model, int64_t n_atoms, int64_t n_snapshots,
                              uint64_t seed) {
  if (n_atoms < 16 || n_snapshots < 4) throw std::invalid_argument("planted preset: needs >= 16 atoms and >= 4 snapshots");
  PlantedOptions o;
  o.d_model = d_model;
  o.n_atoms = n_atoms;
  o.n_snapshots = n_snapshots;
  // At least the probe tokens per dimension a crosscoder needs not to
  // memorise them (docs/CROSSCODER.md "The probe set is memorised below 32
  // tokens per dimension"): 8,192 at d_model 256.
  o.n_tokens = std::max<int64_t>(4096, kEnoughProbeTokensPerDimension * d_model);
  o.active_per_token = 3;
  o.noise = 0.01;
  o.seed = seed;
  const int64_t T = n_snapshots, K = n_atoms;
  o.n_fading = std::max<int64_t>(2, K / 12);
  o.n_rare = std::max<int64_t>(2, K / 16);
  switch (structure) {
    case PlantedStructure::kQuietThenMass:
      // Early snapshots: weak fading atoms (0.3 × the coefficients) under
      // noise 0.03 per dimension (‖noise‖ ≈ 0.24 at d 64 against ~0.3 of
      // weak signal per token): little structure until the mass emergence.
      o.mass_emergence_snapshot = std::max<int64_t>(3, T / 3);
      o.mass_emergence_fraction = 0.5;
      o.fading_strength = 0.3;
      o.noise = 0.03;
      o.fade_by_snapshot = o.mass_emergence_snapshot - 1;
      o.spread_from_snapshot = std::min(T - 1, o.mass_emergence_snapshot + 1);
      o.scale_growth = 4;
      break;
    case PlantedStructure::kMassOnStable:
      o.n_initial = (3 * K) / 10;
      o.mass_emergence_snapshot = T / 2;
      o.mass_emergence_fraction = 0.6;
      o.fade_by_snapshot = std::max<int64_t>(1, T / 3);
      o.spread_from_snapshot = 1;
      break;
    case PlantedStructure::kStaircase:
      o.n_initial = K / 4;
      o.fade_by_snapshot = std::max<int64_t>(1, T / 2);
      o.spread_from_snapshot = 1;
      o.scale_growth = 4;
      break;
    case PlantedStructure::kStationary:
      o.n_fading = 0;
      o.n_rare = 0;
      o.stationary = true;
      break;
  }
  return o;
}

}  // namespace cw
