#include "bench/stream/random_snapshots.h"

#include <random>
#include <string_view>

#include "schema/checksum.h"
#include "store/snapshot_table.h"

namespace cw::bench {

RandomSnapshots store_random_snapshots(Store& store, int64_t T, int64_t N, int64_t d) {
  SnapshotTable table(store);
  RandomSnapshots out;
  std::mt19937 rng(1);
  std::normal_distribution<float> normal;
  for (int64_t t = 0; t < T; ++t) {
    std::vector<float> values(size_t(N * d));
    for (auto& v : values) v = normal(rng);
    SnapshotMeta meta;
    meta.key = {"bench", "resid", uint64_t(t + 1), ArrayKind::kProbeActivations, ""};
    meta.n_tokens = uint32_t(N);
    meta.d_model = uint32_t(d);
    meta.checksum = checksum64(values.data(), values.size() * sizeof(float));
    table.put(meta, std::string_view(reinterpret_cast<const char*>(values.data()), values.size() * sizeof(float)));
    out.metas.push_back(meta);
    out.values.push_back(std::move(values));
  }
  return out;
}

}  // namespace cw::bench
