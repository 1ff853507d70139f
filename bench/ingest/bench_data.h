// What every part of the ingest benchmark sends or writes: one run with one
// tap of d_model 1024, and a snapshot array of finite fp32 values sized by
// --snapshot-mb, so each measurement moves exactly the same bytes.
#ifndef CW_BENCH_INGEST_BENCH_DATA_H_
#define CW_BENCH_INGEST_BENCH_DATA_H_

#include <cstdint>
#include <string>

#include "schema/records.h"

namespace cw::bench {

inline constexpr uint32_t kBenchDModel = 1024;
inline constexpr const char* kBenchTap = "blocks.0.resid_post";

struct BenchData {
  RunDescription run;
  std::string array;  // [n_tokens x kBenchDModel] fp32, row-major

  uint64_t bytes() const { return array.size(); }
  // Metadata of the snapshot at `step` (checksum left for the sender).
  SnapshotMeta meta(uint64_t step) const;
};

// `snapshot_mib` MiB per snapshot; throws std::invalid_argument if zero.
BenchData make_bench_data(uint64_t snapshot_mib);

}  // namespace cw::bench

#endif  // CW_BENCH_INGEST_BENCH_DATA_H_
