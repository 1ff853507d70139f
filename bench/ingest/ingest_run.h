// Measurement 1 and 4: durable ingest hooks -> conceptwatchd -> RocksDB over
// loopback TCP, and how long publish() holds the training thread meanwhile.
#ifndef CW_BENCH_INGEST_INGEST_RUN_H_
#define CW_BENCH_INGEST_INGEST_RUN_H_

#include <cstdint>
#include <string>
#include <vector>

#include "bench/ingest/bench_data.h"

namespace cw::bench {

struct IngestRunResult {
  double seconds = 0;                   // first publish() to flush() returning
  double publish_phase_seconds = 0;     // first publish() to the last one returning
  std::vector<double> publish_seconds;  // each publish() call, back to back
  // publish() when the queue has drained since the last one, as when a job
  // publishes once per checkpoint (spare buffers are warm then), each right
  // after one plain memcpy of each kind on the same thread (same load).
  std::vector<double> paced_publish_seconds;
  std::vector<double> warm_copy_seconds, fresh_copy_seconds, huge_page_copy_seconds;
};

// Starts a fresh conceptwatchd (fresh data dir under `work_dir`), publishes
// `count` snapshots with distinct steps back to back, waits until all are
// acknowledged (timed), then publishes `paced_count` more one at a time,
// each after the previous was acknowledged (only publish() timed), stops the
// daemon and checks that all are in its store.
// With `curve`, the daemon and the publisher use CURVE keys (every byte
// encrypted and authenticated; README "Authentication").
// Throws std::runtime_error on any failure (daemon died, drops, rejects).
IngestRunResult run_ingest(const BenchData& data, uint32_t count, uint32_t paced_count,
                           const std::string& daemon_path, const std::string& work_dir, bool curve = false);

}  // namespace cw::bench

#endif  // CW_BENCH_INGEST_INGEST_RUN_H_
