// Ceiling A: raw ZeroMQ loopback throughput in the shape of an ingest
// exchange. A DEALER sends each snapshot as a small begin frame, 4 MiB chunk
// frames and a small end frame to a ROUTER over tcp://127.0.0.1; the ROUTER
// answers a tiny ack per snapshot; at most `max_in_flight` snapshots are
// unacknowledged, as in the publisher. No encoding, no validation, no copy
// in user space (chunks are sent zero-copy and not read by the receiver):
// the transport alone.
#ifndef CW_BENCH_INGEST_ZMQ_CEILING_H_
#define CW_BENCH_INGEST_ZMQ_CEILING_H_

#include <cstdint>

#include "bench/ingest/bench_data.h"

namespace cw::bench {

// Seconds from the first send to the last ack. Throws std::runtime_error.
double run_zmq_ceiling(const BenchData& data, uint32_t count, uint64_t chunk_bytes, int max_in_flight);

}  // namespace cw::bench

#endif  // CW_BENCH_INGEST_ZMQ_CEILING_H_
