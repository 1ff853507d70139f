// What one daemon accepts from its peers: sizes of messages and arrays, the
// partial arrays it holds while they arrive, and the lengths of a message's
// lists. Every limit is a config key in [ingest] (deploy/conceptwatchd.toml);
// docs/SECURITY.md says what each one guards against.
#ifndef CW_INGEST_INGEST_LIMITS_H_
#define CW_INGEST_INGEST_LIMITS_H_

#include <cstdint>

namespace cw {

struct IngestLimits {
  uint64_t max_frame_bytes = 64ull << 20;          // one message, chunk included
  uint64_t max_snapshot_bytes = (4ull << 30) - 1;  // one whole array: one store value, < 2^32 bytes
  // Partially received arrays (a begin whose end has not come). Bytes are
  // what the begins declared; a peer may hold one array of the largest size
  // (the publisher keeps 2 in flight; the second waits on BUSY). Counts keep
  // a peer from opening thousands of tiny arrays.
  uint64_t max_pending_bytes = 8ull << 30;           // all peers together
  uint64_t max_pending_bytes_per_peer = 4ull << 30;  // one connection
  uint64_t max_pending_arrays = 1024;                // all peers together
  uint64_t max_pending_arrays_per_peer = 16;         // one connection
  uint32_t max_d_model = 1u << 16;
  uint64_t max_probe_tokens = 1ull << 24;  // also: all tokens of a Hello's tasks together
  // Lengths of a message's lists, checked before they are decoded.
  uint64_t max_taps = 4096;               // per Hello (a 70B model has ~80 layers x a few taps)
  uint64_t max_tasks = 1024;              // per Hello
  uint64_t max_vocabulary = 1ull << 22;   // token texts per Hello (large tokenizers have ~256k)
  uint64_t max_scalars = 1024;            // per snapshot begin
};

}  // namespace cw

#endif  // CW_INGEST_INGEST_LIMITS_H_
