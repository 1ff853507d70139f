#include "bench/ingest/store_ceiling.h"

#include <chrono>

#include "bench/common/temp_dir.h"
#include "schema/checksum.h"
#include "store/snapshot_table.h"
#include "store/store.h"

namespace cw::bench {

double run_store_ceiling(const BenchData& data, uint32_t count, const std::string& work_dir) {
  TempDir dir(work_dir, "cw-bench-store");
  auto store = Store::open(dir.path() + "/data");  // sync_writes = true, as the daemon
  SnapshotTable table(*store);
  const uint64_t checksum = checksum64(data.array.data(), data.bytes());  // not timed: the daemon gets it on the wire
  const auto start = std::chrono::steady_clock::now();
  for (uint32_t i = 0; i < count; ++i) {
    SnapshotMeta meta = data.meta(1000 + i);
    meta.checksum = checksum;
    table.put(meta, data.array);
  }
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace cw::bench
