// Where the time of one snapshot goes, stage by stage, each timed alone on
// one thread in this process (no network, no other thread competing): the
// publisher's checksum, frame encoding and ZeroMQ message copies, then the
// daemon's Ingest::handle for begin+chunks and for the end (which writes
// the store), with the chunk path's two scans timed on their own.
#ifndef CW_BENCH_INGEST_STAGE_BREAKDOWN_H_
#define CW_BENCH_INGEST_STAGE_BREAKDOWN_H_

#include <string>
#include <vector>

#include "bench/ingest/bench_data.h"

namespace cw::bench {

struct StageTime {
  std::string side;   // "hooks" or "daemon"
  std::string stage;
  double seconds;     // median per snapshot
};

std::vector<StageTime> measure_stages(const BenchData& data, uint64_t chunk_bytes, int repeats,
                                      const std::string& work_dir);

}  // namespace cw::bench

#endif  // CW_BENCH_INGEST_STAGE_BREAKDOWN_H_
