// Deterministic runs and activation arrays, so that a test can rebuild the
// exact bytes it published and compare them with what the store holds.
#ifndef CW_TESTS_SUPPORT_TEST_DATA_H_
#define CW_TESTS_SUPPORT_TEST_DATA_H_

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "schema/records.h"

namespace cw::testing {

// A run with the given taps (all of width d_model) and a probe set of
// n_tokens random token ids in sequences of sequence_length.
RunDescription make_run(const std::string& run, const std::vector<std::string>& taps, uint32_t d_model,
                        uint32_t n_tokens, uint32_t sequence_length = 64, uint64_t probe_seed = 1);

// `count` finite fp32 values drawn from N(0, 1) with `seed`.
std::vector<float> random_activations(uint64_t seed, std::size_t count);

// The seed of (tap, step): every snapshot of a test gets distinct bytes.
inline uint64_t array_seed(const std::string& tap, uint64_t step) {
  return std::hash<std::string>()(tap) * 1000003u + step;
}

// Metadata of an f32 probe snapshot of `run` at (tap, step) holding `data`;
// the checksum is filled in.
SnapshotMeta probe_meta(const RunDescription& run, const std::string& tap, uint64_t step, const std::vector<float>& data);

// The bytes of a float array, as the store keeps them.
std::string as_bytes(const std::vector<float>& data);

}  // namespace cw::testing

#endif  // CW_TESTS_SUPPORT_TEST_DATA_H_
