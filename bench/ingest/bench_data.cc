#include "bench/ingest/bench_data.h"

#include <cstring>
#include <stdexcept>

namespace cw::bench {

SnapshotMeta BenchData::meta(uint64_t step) const {
  SnapshotMeta meta;
  meta.key.run = run.run;
  meta.key.tap = kBenchTap;
  meta.key.step = step;
  meta.tokens_seen = step * 1000;
  meta.scalars = {{"loss", 3.0}};
  meta.n_tokens = uint32_t(run.probe.n_tokens());
  meta.d_model = kBenchDModel;
  meta.dtype = DType::kF32;
  return meta;
}

BenchData make_bench_data(uint64_t snapshot_mib) {
  if (snapshot_mib == 0) throw std::invalid_argument("--snapshot-mb must be at least 1");
  const uint64_t n_tokens = snapshot_mib * (1u << 20) / (sizeof(float) * kBenchDModel);
  BenchData data;
  data.run.run = "bench-ingest";
  data.run.taps = {{kBenchTap, kBenchDModel}};
  data.run.probe.sequence_length = 256;
  data.run.probe.token_ids.resize(n_tokens);
  for (uint64_t i = 0; i < n_tokens; ++i) data.run.probe.token_ids[i] = uint32_t(i % 50000);
  // Finite, varied values (the daemon refuses NaN/Inf), like activations.
  data.array.resize(n_tokens * kBenchDModel * sizeof(float));
  uint32_t state = 12345;
  for (uint64_t i = 0; i < n_tokens * kBenchDModel; ++i) {
    state = state * 1664525u + 1013904223u;
    const float value = float(int32_t(state >> 8) - (1 << 23)) / float(1 << 22);
    std::memcpy(&data.array[i * sizeof(float)], &value, sizeof(float));
  }
  return data;
}

}  // namespace cw::bench
