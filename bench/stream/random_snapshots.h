// The streaming benchmarks' input: T snapshots of N × d standard normal
// floats (seed 1) stored as probe activations of run "bench", tap "resid",
// steps 1 … T.
#ifndef CW_BENCH_STREAM_RANDOM_SNAPSHOTS_H_
#define CW_BENCH_STREAM_RANDOM_SNAPSHOTS_H_

#include <cstdint>
#include <vector>

#include "schema/records.h"
#include "store/store.h"

namespace cw::bench {

struct RandomSnapshots {
  std::vector<SnapshotMeta> metas;
  std::vector<std::vector<float>> values;  // as stored, per snapshot
};

RandomSnapshots store_random_snapshots(Store& store, int64_t T, int64_t N, int64_t d);

}  // namespace cw::bench

#endif  // CW_BENCH_STREAM_RANDOM_SNAPSHOTS_H_
