// A short planted stream whose job scalars make the daemon raise a phase
// transition: the store fixture's (tests/fixtures/store_v1, written by
// tests/store/store_fixture_writer.cc) and the dashboard's browser test's.
#ifndef CW_TESTS_ANALYSIS_LOSS_STEP_STREAM_H_
#define CW_TESTS_ANALYSIS_LOSS_STEP_STREAM_H_

#include <string>
#include <utility>
#include <vector>

#include "examples/planted/planted_dictionary.h"

namespace cw::testing {

struct LossStepStream {
  PlantedDictionary planted;
  std::vector<std::vector<std::pair<std::string, double>>> scalars;  // per snapshot, for stream_planted
};

// 8 snapshots at d 16 (16 atoms, 2 of them fading, 1,024 probe tokens), with
// the scalars "loss", stepping down from 3 to 1 half-way, and "tokens".
inline LossStepStream loss_step_stream() {
  PlantedOptions options;
  options.d_model = 16;
  options.n_atoms = 16;
  options.n_snapshots = 8;
  options.n_tokens = 1024;
  options.n_fading = 2;
  options.seed = 3;
  LossStepStream stream{make_planted_dictionary(options), {}};
  for (int64_t t = 0; t < options.n_snapshots; ++t)
    stream.scalars.push_back({{"loss", (t < 4 ? 3.0 : 1.0) - 0.01 * double(t)}, {"tokens", 1000.0 * double(t)}});
  return stream;
}

}  // namespace cw::testing

#endif  // CW_TESTS_ANALYSIS_LOSS_STEP_STREAM_H_
