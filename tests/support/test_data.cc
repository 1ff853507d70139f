#include "tests/support/test_data.h"

#include <random>
#include <stdexcept>

#include "schema/checksum.h"

namespace cw::testing {

RunDescription make_run(const std::string& run, const std::vector<std::string>& taps, uint32_t d_model,
                        uint32_t n_tokens, uint32_t sequence_length, uint64_t probe_seed) {
  if (sequence_length == 0 || n_tokens % sequence_length != 0)
    throw std::invalid_argument("make_run: n_tokens must be a multiple of sequence_length");
  RunDescription description;
  description.run = run;
  for (const auto& tap : taps) description.taps.push_back({tap, d_model});
  description.dtype = DType::kF32;
  std::mt19937_64 rng(probe_seed);
  description.probe.sequence_length = sequence_length;
  description.probe.token_ids.resize(n_tokens);
  for (auto& id : description.probe.token_ids) id = uint32_t(rng() % 50000);
  return description;
}

std::vector<float> random_activations(uint64_t seed, std::size_t count) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::vector<float> values(count);
  for (auto& v : values) v = normal(rng);
  return values;
}

SnapshotMeta probe_meta(const RunDescription& run, const std::string& tap, uint64_t step, const std::vector<float>& data) {
  const TapSpec* spec = run.find_tap(tap);
  if (!spec) throw std::invalid_argument("probe_meta: no tap " + tap);
  SnapshotMeta meta;
  meta.key = {run.run, tap, step, ArrayKind::kProbeActivations, ""};
  meta.tokens_seen = step * 1024;
  meta.scalars = {{"loss", 10.0 / double(step + 1)}};
  meta.n_tokens = uint32_t(run.probe.n_tokens());
  meta.d_model = spec->d_model;
  meta.dtype = DType::kF32;
  if (data.size() != uint64_t(meta.n_tokens) * meta.d_model) throw std::invalid_argument("probe_meta: wrong array size");
  meta.checksum = checksum64(data.data(), data.size() * sizeof(float));
  return meta;
}

std::string as_bytes(const std::vector<float>& data) {
  return std::string(reinterpret_cast<const char*>(data.data()), data.size() * sizeof(float));
}

}  // namespace cw::testing
