// Ceiling B: raw store write throughput, no network. The very SnapshotTable
// the daemon writes with (cw::Store: snapshot_data family in blob files,
// WAL synced on every write), fed the same arrays back to back.
#ifndef CW_BENCH_INGEST_STORE_CEILING_H_
#define CW_BENCH_INGEST_STORE_CEILING_H_

#include <cstdint>
#include <string>

#include "bench/ingest/bench_data.h"

namespace cw::bench {

// Seconds from the first put to the last one returning, in a fresh store
// under `work_dir`. Throws StoreError.
double run_store_ceiling(const BenchData& data, uint32_t count, const std::string& work_dir);

}  // namespace cw::bench

#endif  // CW_BENCH_INGEST_STORE_CEILING_H_
