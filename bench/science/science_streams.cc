#include "bench/science/science_streams.h"

#include <cstdio>
#include <stdexcept>
#include <utility>

namespace cw::bench {

std::string ScienceStream::name() const {
  char text[192];
  int n = std::snprintf(text, sizeof text, "%s/d%lld/k%lld/t%lld/s%llu", to_string(structure), (long long)d_model,
                        (long long)n_atoms, (long long)n_snapshots, (unsigned long long)seed);
  for (const auto& [tag, value] : {std::pair{'a', active_per_token}, {'r', drift}, {'n', noise}})
    if (value >= 0) n += std::snprintf(text + n, sizeof text - size_t(n), "/%c%g", tag, value);
  return text;
}

PlantedOptions ScienceStream::options() const {
  PlantedOptions o = planted_preset(structure, d_model, n_atoms, n_snapshots, seed);
  if (active_per_token >= 0) o.active_per_token = active_per_token;
  if (drift >= 0) o.drift = drift;
  if (noise >= 0) o.noise = noise;
  return o;
}

std::vector<ScienceStream> science_streams() {
  using S = PlantedStructure;
  // Sizes: one step costs ~ features × snapshots × d = 8 d² T with the
  // default 8 × d features, so a stream costs ~ d² T² (300 steps of 1,024
  // tokens per update, one update per snapshot). quiet-then-mass/d32/k48/t10
  // took 90 s of CPU; each stream here stays within ~2-10 minutes of one core
  // (the 50-snapshot control at d 16 is the longest). d 256 at the default
  // dictionary (2,048 features) is ~60× d 32 per step: not in the list the
  // docs run on a shared 2-core machine; run it by name.
  return {
      {S::kQuietThenMass, 64, 100, 8, 1, "tune"},  // the kind of stream that found the gaps (d 64, ~100 atoms)
      {S::kMassOnStable, 32, 48, 12, 2, "tune"},
      {S::kStaircase, 32, 64, 10, 3, "tune"},
      {S::kStationary, 16, 32, 24, 4, "tune"},
      {S::kQuietThenMass, 128, 160, 6, 11, "held-out"},
      {S::kMassOnStable, 64, 80, 10, 12, "held-out"},
      {S::kStaircase, 32, 32, 12, 13, "held-out"},
      {S::kQuietThenMass, 32, 64, 12, 15, "held-out"},
      {S::kStationary, 16, 32, 50, 14, "held-out"},
      // Fresh: sizes and seeds fixed on 2026-12-06, after every change above
      // had been measured on the held-out streams many times (so those have
      // been seen); reported once, with the defaults as they stood, never tuned on.
      {S::kQuietThenMass, 48, 80, 9, 41, "fresh"},
      {S::kMassOnStable, 96, 150, 7, 42, "fresh"},
      {S::kStaircase, 64, 120, 9, 43, "fresh"},
      {S::kQuietThenMass, 128, 200, 6, 44, "fresh"},
      {S::kStationary, 24, 40, 26, 45, "fresh"},
      {S::kMassOnStable, 32, 40, 14, 46, "fresh"},
  };
}

ScienceStream parse_science_stream(const std::string& name) {
  for (const auto& stream : science_streams()) {
    if (stream.name() == name) return stream;
  }
  const auto slash = name.find('/');
  ScienceStream stream;
  long long d = 0, k = 0, t = 0;
  unsigned long long s = 0;
  int used = 0;
  const auto structure = parse_planted_structure(name.substr(0, slash));
  const auto bad = [&name] {
    return std::invalid_argument("stream '" + name +
                                 "': expected STRUCTURE/dD/kK/tT/sS, then optionally /aA (atoms per token), /rR "
                                 "(drift per snapshot), /nN (noise per dimension) in that order, STRUCTURE one of "
                                 "quiet-then-mass, mass-on-stable, staircase, stationary (e.g. "
                                 "quiet-then-mass/d64/k100/t12/s1 or mass-on-stable/d64/k96/t9/s2/r0.2)");
  };
  if (slash == std::string::npos || !structure ||
      std::sscanf(name.c_str() + slash, "/d%lld/k%lld/t%lld/s%llu%n", &d, &k, &t, &s, &used) != 4)
    throw bad();
  const char* rest = name.c_str() + slash + used;
  for (auto [tag, value] : {std::pair{'a', &stream.active_per_token}, {'r', &stream.drift}, {'n', &stream.noise}}) {
    char pattern[8];
    std::snprintf(pattern, sizeof pattern, "/%c%%lf%%n", tag);
    int n = 0;
    if (std::sscanf(rest, pattern, value, &n) == 1) {
      if (!(*value >= 0) || (tag == 'a' && *value == 0)) throw bad();
      rest += n;
    }
  }
  if (*rest != '\0') throw bad();
  stream.structure = *structure;
  stream.d_model = d;
  stream.n_atoms = k;
  stream.n_snapshots = t;
  stream.seed = s;
  stream.split = "ad hoc";
  return stream;
}

}  // namespace cw::bench
