// Planted streams by structure: a stream is generated from (structure, d,
// atoms, snapshots, seed), not written by hand, so the science benchmark
// (bench/science) and its CI-sized test draw new sizes and seeds from the
// same recipes.
//
//   quiet-then-mass  weak initialisation atoms fading over the first
//                    snapshots, nothing else but noise and a few rare atoms,
//                    then half the atoms switching on at one snapshot (a
//                    third of the way in) and the rest one by one after it;
//                    raw scale ×4 over the run.
//   mass-on-stable   a stable population on throughout (30% of the atoms,
//                    plus rare ones), initialisation atoms fading, 60% of
//                    the rest switching on together half-way, the others
//                    one by one over the run.
//   staircase        a stable population, fading and rare atoms, the rest
//                    switching on one by one over the run; no mass emergence;
//                    raw scale ×4.
//   stationary       every atom on at every snapshot: nothing to detect.
#ifndef CW_EXAMPLES_PLANTED_PLANTED_PRESETS_H_
#define CW_EXAMPLES_PLANTED_PLANTED_PRESETS_H_

#include <cstdint>
#include <optional>
#include <string>

#include "examples/planted/planted_dictionary.h"

namespace cw {

enum class PlantedStructure { kQuietThenMass, kMassOnStable, kStaircase, kStationary };

const char* to_string(PlantedStructure structure);  // "quiet-then-mass", ...
std::optional<PlantedStructure> parse_planted_structure(const std::string& name);

// 4,096 tokens, 3 atoms per token on average. The mass emergence (if any)
// is at options.mass_emergence_snapshot. Throws std::invalid_argument for
// sizes the structure cannot hold (fewer than 16 atoms or 4 snapshots).
PlantedOptions planted_preset(PlantedStructure structure, int64_t d_model, int64_t n_atoms, int64_t n_snapshots,
                              uint64_t seed);

}  // namespace cw

#endif  // CW_EXAMPLES_PLANTED_PLANTED_PRESETS_H_
