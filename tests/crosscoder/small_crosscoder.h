// Test helper: the small planted stream (d_model 16, 16 atoms, 3 snapshots
// of 512 tokens) and crosscoder options (32 features, 20 steps per update)
// that the crosscoder's API tests train on in milliseconds.
#ifndef CW_TESTS_CROSSCODER_SMALL_CROSSCODER_H_
#define CW_TESTS_CROSSCODER_SMALL_CROSSCODER_H_

#include <vector>

#include "crosscoder/crosscoder.h"
#include "examples/planted/planted_dictionary.h"

namespace cw {

inline PlantedDictionary small_planted() {
  PlantedOptions o;
  o.d_model = 16;
  o.n_atoms = 16;
  o.n_snapshots = 3;
  o.n_tokens = 512;
  o.seed = 3;
  return make_planted_dictionary(o);
}

inline CrosscoderOptions small_options() {
  CrosscoderOptions o;
  o.d_model = 16;
  o.n_features = 32;
  o.batch_size = 64;
  o.steps_per_update = 20;
  o.lr = 3e-3;
  o.seed = 5;
  return o;
}

// The raw activations of the first `n` snapshots.
inline std::vector<const float*> raw(const PlantedDictionary& p, int64_t n) {
  std::vector<const float*> out;
  for (int64_t t = 0; t < n; ++t) out.push_back(p.activations[t].data());
  return out;
}

}  // namespace cw

#endif  // CW_TESTS_CROSSCODER_SMALL_CROSSCODER_H_
