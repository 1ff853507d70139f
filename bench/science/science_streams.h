// The planted streams the science benchmark runs, each tagged "tune" (the
// other helpers may tune the defaults on it) or "held-out" (sizes and seeds
// fixed before any result was seen; report, never tune on). docs/CROSSCODER.md
// ("Planted streams: what the default config achieves") keeps the split.
#ifndef CW_BENCH_SCIENCE_SCIENCE_STREAMS_H_
#define CW_BENCH_SCIENCE_SCIENCE_STREAMS_H_

#include <cstdint>
#include <string>
#include <vector>

#include "examples/planted/planted_presets.h"

namespace cw::bench {

struct ScienceStream {
  PlantedStructure structure = PlantedStructure::kStationary;
  int64_t d_model = 32;
  int64_t n_atoms = 32;
  int64_t n_snapshots = 8;
  uint64_t seed = 1;
  std::string split;  // "tune", "held-out", or "ad hoc" (given on the command line)
  // The generator's knobs beyond the preset's (negative: the preset's):
  // atoms per token, each atom's drift per snapshot, noise per dimension.
  double active_per_token = -1, drift = -1, noise = -1;

  std::string name() const;  // "quiet-then-mass/d64/k100/t12/s1", then "/a5", "/r0.2", "/n0.05" where set
  PlantedOptions options() const;
};

std::vector<ScienceStream> science_streams();

// A stream from its name, "STRUCTURE/dD/kK/tT/sS" and optionally "/aA"
// (atoms per token), "/rR" (drift per snapshot), "/nN" (noise), once each in
// that order: the built-in one of that name (with its split) if there is
// one, else an ad hoc one. Throws std::invalid_argument naming the expected
// form.
ScienceStream parse_science_stream(const std::string& name);

}  // namespace cw::bench

#endif  // CW_BENCH_SCIENCE_SCIENCE_STREAMS_H_
